# The lesson in JupyterLab with the rust-orm kernel installed and orm prepared (a warm first
# kernel). For a class server (JupyterHub's DockerSpawner, uid 1000) or by hand:
#   docker build -t rust-orm-lesson . && docker run -p 8888:8888 rust-orm-lesson
# The same steps as Binder's (binder/install.sh).
FROM rust:1.95-bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends libsqlite3-dev pkg-config python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 1000 learner
USER learner
# Cells are compiled at run time: the user needs cargo's registry and the toolchain on PATH.
ENV CARGO_HOME=/home/learner/.cargo \
    PATH=/home/learner/venv/bin:/home/learner/.cargo/bin:/usr/local/cargo/bin:$PATH
WORKDIR /home/learner/lesson
COPY --chown=learner . .
RUN python3 -m venv /home/learner/venv && bash binder/install.sh
EXPOSE 8888
CMD ["jupyter", "lab", "--ip=0.0.0.0", "--port=8888", "--no-browser", "notebooks/lesson.ipynb"]
