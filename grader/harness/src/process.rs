//! Ending a child and its process group without signalling a stranger.
//!
//! A process id is free for reuse once its process has been reaped (`waitpid`) and no process
//! group or session still carries the number. A `kill(-pid)` sent after the reap can therefore
//! reach an unrelated process group that was given the same number meanwhile: on a test machine,
//! a PostgreSQL backend (each one leads a group of its own). So the group is killed while the
//! child is still unreaped (alive, or a zombie that keeps its id reserved), and reaped after.
//! Linux's `waitid(2)` with `WNOWAIT` tells whether the child has exited without reaping it.

/// Whether our child `pid` has exited, without reaping it (`waitid` with `WNOWAIT`):
/// `Some(true)` exited (a zombie until reaped), `Some(false)` still running, `None` not (or no
/// longer) our child, so that nothing may be signalled under its id.
pub fn exited_unreaped(pid: libc::pid_t) -> Option<bool> {
    loop {
        // SAFETY: `waitid` writes into the zeroed `siginfo_t` we own; WNOWAIT leaves the child
        // waitable.
        let (done, info) = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let done = libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            );
            (done, info)
        };
        if done == 0 {
            // SAFETY: filled in by `waitid` (zero when the child has not exited yet).
            return Some(unsafe { info.si_pid() } == pid);
        }
        if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return None;
        }
    }
}

/// Sends SIGKILL to the process group `pid` leads and to `pid` itself.
///
/// Only for a child of ours that has not been reaped yet: [`exited_unreaped`] gives `Some`.
pub fn kill_group(pid: libc::pid_t) {
    // SAFETY: signals to an unreaped child of ours and its group: both ids are still its own.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
        libc::kill(pid, libc::SIGKILL);
    }
}

/// Kills the group of `child` (made its leader at spawn) and reaps it; does nothing to the
/// group when `child` was already reaped, as its id may belong to another process by now.
pub fn kill_and_reap(child: &mut std::process::Child) {
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        if exited_unreaped(pid).is_some() {
            kill_group(pid);
        }
    }
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use std::time::{Duration, Instant};

    fn spawn_sleep(seconds: &str) -> std::process::Child {
        std::process::Command::new("sleep")
            .arg(seconds)
            .process_group(0)
            .spawn()
            .expect("spawn sleep")
    }

    /// Polls `exited_unreaped` until the child has exited, at most 10 s.
    fn until_exited(pid: libc::pid_t) -> Option<bool> {
        let started = Instant::now();
        loop {
            let state = exited_unreaped(pid);
            if state != Some(false) || started.elapsed() > Duration::from_secs(10) {
                return state;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn an_exited_child_stays_unreaped_until_it_is_waited_for() {
        let mut child = spawn_sleep("0");
        let pid = child.id() as libc::pid_t;
        assert_eq!(until_exited(pid), Some(true));
        // Still a zombie: asking again gives the same answer, and its id is still a process.
        assert_eq!(exited_unreaped(pid), Some(true));
        assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
        let status = child.wait().expect("reap");
        assert!(status.success());
        // Reaped: no longer ours, so nothing may be signalled under its id.
        assert_eq!(exited_unreaped(pid), None);
    }

    #[test]
    fn kill_and_reap_ends_a_running_child_and_its_group() {
        let mut child = spawn_sleep("60");
        let pid = child.id() as libc::pid_t;
        assert_eq!(exited_unreaped(pid), Some(false));
        kill_and_reap(&mut child);
        let status = child.try_wait().expect("status").expect("reaped");
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        assert_eq!(exited_unreaped(pid), None);
    }
}
