//! A standby: an `orm-kernel standby` process holds a started evaluator (`orm` and the prelude
//! loaded) and waits on a Unix socket; the next kernel Jupyter starts hands it its connection
//! file and its folder, and the standby serves that kernel, so the first cell does not wait for
//! an evaluator to start. 20 s later (`ORM_KERNEL_STANDBY_NEXT_AFTER`), or when its kernel ends
//! if sooner, it starts the next standby in the background, for the next kernel or restart. The process
//! Jupyter started stays as a stand-in: it forwards SIGINT and SIGTERM to the standby and ends
//! when it ends; when the stand-in is killed, the standby notices (its socket connection ends)
//! and shuts down.
//!
//! Without a standby (no socket, or it does not answer) the kernel starts as before.
//! Cost: one idle evaluator per user: the evcxr context with rust-analyzer's database in the
//! standby and its evaluation process (measured in kernel/README.md); no CPU while it waits.
//! It stops after `ORM_KERNEL_STANDBY_IDLE` seconds unused (default 7200), on
//! `orm-kernel standby --stop`, or when killed.

use crate::error::KernelError;
use crate::protocol::connection::ConnectionInfo;
use crate::worker::Worker;
use orm_eval::EvaluatorOptions;
use serde_json::json;
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where the standby listens: `$ORM_KERNEL_STANDBY_SOCKET`, else `standby.sock` in the
/// evaluator's cache folder (per user).
pub fn socket_path() -> PathBuf {
    match std::env::var_os("ORM_KERNEL_STANDBY_SOCKET").filter(|p| !p.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => orm_eval::default_cache_dir().join("standby.sock"),
    }
}

/// A kernel served by a standby: this process waits for it.
pub struct Adopted {
    standby: Standby,
    /// Kept open: the standby ends its kernel when this connection ends.
    _connection: UnixStream,
}

/// Hands the kernel to a waiting standby, if one answers.
pub fn adopt(connection_file: &Path) -> Option<Adopted> {
    let mut stream = UnixStream::connect(socket_path()).ok()?;
    let file = connection_file.canonicalize().ok()?;
    let cwd = std::env::current_dir().ok()?;
    let request = json!({"connection_file": file, "cwd": cwd});
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    writeln!(stream, "{request}").ok()?;
    let mut answer = String::new();
    BufReader::new(stream.try_clone().ok()?)
        .read_line(&mut answer)
        .ok()?;
    let pid = answer.trim().strip_prefix("ok ")?.parse().ok()?;
    eprintln!("orm-kernel: served by the standby process {pid}");
    Some(Adopted {
        standby: Standby::open(pid),
        _connection: stream,
    })
}

/// The standby process, which this process did not start and so cannot reap: held by a pidfd
/// (`pidfd_open(2)`, Linux 5.3), so that a signal forwarded after it ended reaches nothing
/// rather than whatever process was given its id since. Without pidfds (older kernels) by its
/// id, checked through `/proc` first.
enum Standby {
    Fd(std::os::fd::OwnedFd),
    Pid(libc::pid_t),
}

impl Standby {
    fn open(pid: libc::pid_t) -> Standby {
        use std::os::fd::FromRawFd;
        // SAFETY: `pidfd_open` returns a new descriptor we own, or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        match i32::try_from(fd) {
            // SAFETY: a fresh descriptor from the call above.
            Ok(fd) if fd >= 0 => Standby::Fd(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }),
            _ => Standby::Pid(pid),
        }
    }

    fn signal(&self, signal: libc::c_int) {
        use std::os::fd::AsRawFd;
        match self {
            // SAFETY: `pidfd_send_signal` with our descriptor and no extra info.
            Standby::Fd(fd) => unsafe {
                libc::syscall(
                    libc::SYS_pidfd_send_signal,
                    fd.as_raw_fd(),
                    signal,
                    std::ptr::null::<libc::siginfo_t>(),
                    0,
                );
            },
            Standby::Pid(pid) => {
                if !self.exited() {
                    // SAFETY: a signal to the standby's id, which was alive just now.
                    unsafe { libc::kill(*pid, signal) };
                }
            }
        }
    }

    /// Whether the standby has ended (its pidfd is readable then, `pidfd_open(2)`).
    fn exited(&self) -> bool {
        use std::os::fd::AsRawFd;
        match self {
            Standby::Fd(fd) => {
                let mut poll = libc::pollfd {
                    fd: fd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one pollfd we own, no waiting.
                unsafe { libc::poll(&mut poll, 1, 0) > 0 }
            }
            Standby::Pid(pid) => !Path::new(&format!("/proc/{pid}")).exists(),
        }
    }
}

impl Adopted {
    /// Forwards SIGINT and SIGTERM to the standby until it ends.
    ///
    /// # Errors
    ///
    /// [`KernelError::Runtime`] when the async runtime or its signal handlers cannot start.
    pub fn wait(self) -> Result<(), KernelError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(KernelError::Runtime)?;
        let standby = self.standby;
        runtime.block_on(async move {
            use tokio::signal::unix::{signal, SignalKind};
            let mut interrupts = signal(SignalKind::interrupt()).map_err(KernelError::Runtime)?;
            let mut terminations = signal(SignalKind::terminate()).map_err(KernelError::Runtime)?;
            let mut tick = tokio::time::interval(Duration::from_millis(200));
            loop {
                tokio::select! {
                    _ = interrupts.recv() => standby.signal(libc::SIGINT),
                    _ = terminations.recv() => {
                        standby.signal(libc::SIGTERM);
                        return Ok(());
                    }
                    _ = tick.tick() => {
                        if standby.exited() {
                            return Ok(());
                        }
                    }
                }
            }
        })
    }
}

/// `orm-kernel standby`: starts an evaluator and waits for a kernel to serve.
///
/// # Errors
///
/// [`KernelError::Io`] when the socket's folder cannot be made or the socket bound,
/// [`KernelError::Standby`] when the socket fails while waiting or answering,
/// [`KernelError::StandbyRequest`] for a request that is not JSON, and the errors of serving the
/// kernel ([`crate::server::serve_with`], [`ConnectionInfo::read`]).
pub fn run() -> Result<(), KernelError> {
    let path = socket_path();
    if UnixStream::connect(&path).is_ok() {
        println!("a standby is already waiting on {}", path.display());
        return Ok(());
    }
    let _ = std::fs::remove_file(&path);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(KernelError::io("cannot create", dir))?;
    }
    let listener = UnixListener::bind(&path).map_err(KernelError::io("cannot listen on", &path))?;
    listener
        .set_nonblocking(true)
        .map_err(KernelError::Standby)?;
    // Before any thread exists: it may set an environment variable.
    let extras = crate::server::extras_from_env();
    let worker = Worker::spawn(EvaluatorOptions::default(), extras.clone());
    eprintln!(
        "orm-kernel: standby {} waiting on {}",
        std::process::id(),
        path.display()
    );
    let idle = std::env::var("ORM_KERNEL_STANDBY_IDLE")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(Duration::from_secs(7200), Duration::from_secs);
    let started = Instant::now();
    let (mut stream, request) = loop {
        match listener.accept() {
            Ok((stream, _)) => {
                if let Some(request) = read_request(&stream) {
                    break (stream, request);
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if started.elapsed() > idle || !path.exists() {
                    return stop(worker, &path);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(KernelError::Standby(e)),
        }
    };
    if request == "stop" {
        let _ = writeln!(stream, "stopping");
        return stop(worker, &path);
    }
    drop(listener);
    let _ = std::fs::remove_file(&path);
    // Later, not now: starting an evaluator takes both cores for seconds, and the kernel's
    // first cells come first.
    let delay = std::env::var("ORM_KERNEL_STANDBY_NEXT_AFTER")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(Duration::from_secs(20), Duration::from_secs);
    let next_started = Arc::new(AtomicBool::new(false));
    let started_flag = Arc::clone(&next_started);
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        if !started_flag.swap(true, Ordering::SeqCst) {
            start_next();
        }
    });
    let adopted = Instant::now();
    let request: serde_json::Value =
        serde_json::from_str(&request).map_err(KernelError::StandbyRequest)?;
    let file = PathBuf::from(request["connection_file"].as_str().unwrap_or_default());
    let info = ConnectionInfo::read(&file)?;
    // The folder is entered while Jupyter connects; the first cell waits behind it.
    if let Some(cwd) = request["cwd"].as_str() {
        if let Err(error) = worker.enter_dir(PathBuf::from(cwd)) {
            eprintln!("orm-kernel: standby: {error}");
        }
    }
    eprintln!(
        "orm-kernel: standby {} serves {} (ready in {:.2} s)",
        std::process::id(),
        file.display(),
        adopted.elapsed().as_secs_f64()
    );
    writeln!(stream, "ok {}", std::process::id()).map_err(KernelError::Standby)?;
    stream
        .set_nonblocking(false)
        .map_err(KernelError::Standby)?;
    stream
        .set_read_timeout(None)
        .map_err(KernelError::Standby)?;
    let served = crate::server::serve_with(info, worker, extras, move |stop| {
        // The stand-in's end (killed, or done) closes the connection: the kernel ends too.
        std::thread::spawn(move || {
            let mut buffer = String::new();
            let _ = BufReader::new(stream).read_line(&mut buffer);
            let _ = stop.send(());
        });
    });
    // A kernel that ended early (a restart) still leaves a standby for the next one.
    if !next_started.swap(true, Ordering::SeqCst) {
        start_next();
    }
    served
}

/// One line from a connecting process: a kernel's request, or `stop`.
fn read_request(stream: &UnixStream) -> Option<String> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut line = String::new();
    BufReader::new(stream.try_clone().ok()?)
        .read_line(&mut line)
        .ok()?;
    let line = line.trim().to_owned();
    (!line.is_empty()).then_some(line)
}

fn stop(worker: Worker, path: &Path) -> Result<(), KernelError> {
    let _ = std::fs::remove_file(path);
    worker.shut_down(Duration::from_secs(5));
    eprintln!("orm-kernel: standby {} stopped", std::process::id());
    Ok(())
}

/// Starts the next standby in the background, in its own process group (so that signals to
/// this kernel's group do not reach it), its log appended to `standby.log` beside the socket.
fn start_next() {
    use std::os::unix::process::CommandExt;
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let log = socket_path().with_extension("log");
    let stderr = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .map(std::process::Stdio::from)
        .unwrap_or_else(|_| std::process::Stdio::null());
    let spawned = std::process::Command::new(exe)
        .arg("standby")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(stderr)
        .process_group(0)
        .spawn();
    if let Err(error) = spawned {
        eprintln!("orm-kernel: could not start the next standby: {error}");
    }
}

/// `orm-kernel standby --stop`: asks the waiting standby to stop.
///
/// # Errors
///
/// [`KernelError::Standby`] when the request cannot be written to the standby's socket.
pub fn stop_waiting() -> Result<(), KernelError> {
    let path = socket_path();
    let Ok(mut stream) = UnixStream::connect(&path) else {
        println!("no standby is waiting on {}", path.display());
        return Ok(());
    };
    writeln!(stream, "stop").map_err(KernelError::Standby)?;
    let mut answer = String::new();
    let _ = BufReader::new(stream).read_line(&mut answer);
    println!("stopped the standby on {}", path.display());
    Ok(())
}
