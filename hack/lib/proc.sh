# shellcheck shell=bash
# Background processes owned by the local control plane. Each has a pid file in $PID_DIR; a pid
# counts as ours only while its command line still mentions $LOCAL_DIR, so a recycled pid is never
# signalled. Requires PID_DIR, LOG_DIR and LOCAL_DIR to be set.

# proc_pid NAME: prints the pid of NAME when it is running and ours; fails otherwise.
proc_pid() {
  local file="$PID_DIR/$1.pid" pid
  [[ -s "$file" ]] || return 1
  pid="$(<"$file")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$LOCAL_DIR" || return 1
  echo "$pid"
}

proc_running() { proc_pid "$1" >/dev/null; }

# proc_start NAME COMMAND...: starts COMMAND in its own session (so it outlives the caller and its
# process group), logging to $LOG_DIR/NAME.log, and records its pid.
proc_start() {
  local name="$1"
  shift
  mkdir -p "$PID_DIR" "$LOG_DIR"
  printf '\n==== %s: %s\n' "$(date -u +%FT%TZ)" "$*" >>"$LOG_DIR/$name.log"
  # 9>&-: the caller's lock (see local-up.sh) must not be inherited by the long-lived process.
  setsid "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null 9>&- &
  echo $! >"$PID_DIR/$name.pid"
}

# proc_stop NAME...: TERM to all of them at once, KILL to those still running after 15 s; removes the
# pid files. Pass the names of one shutdown stage together (clients, then the apiserver, then etcd).
proc_stop() {
  local name pid i
  local -A pids=()
  for name in "$@"; do
    if pid="$(proc_pid "$name")"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids[$name]="$pid"
    fi
  done
  for ((i = 0; i < 150; i++)); do
    for name in "${!pids[@]}"; do
      kill -0 "${pids[$name]}" 2>/dev/null || {
        log "stopped $name (pid ${pids[$name]})"
        unset "pids[$name]"
      }
    done
    ((${#pids[@]} > 0)) || break
    sleep 0.1
  done
  for name in "${!pids[@]}"; do
    log "$name did not stop within 15 s; killing it"
    kill -KILL "${pids[$name]}" 2>/dev/null || true
  done
  for name in "$@"; do rm -f "$PID_DIR/$name.pid"; done
}

# wait_until NAME SECONDS COMMAND...: polls COMMAND until it succeeds; fails early when process NAME
# died, showing the end of its log.
wait_until() {
  local name="$1" seconds="$2"
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ! proc_running "$name"; then
      tail -n 30 "$LOG_DIR/$name.log" >&2 || true
      die "$name exited; log: $LOG_DIR/$name.log"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 30 "$LOG_DIR/$name.log" >&2 || true
      die "$name was not ready within ${seconds}s; log: $LOG_DIR/$name.log"
    fi
    sleep 0.25
  done
}

# port_free PORT: nothing listens on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pick_port PREFERRED [TAKEN...]: the first free port from PREFERRED on that is not in TAKEN.
pick_port() {
  local port="$1" taken
  shift
  taken=" $* "
  while ! port_free "$port" || [[ "$taken" == *" $port "* ]]; do
    port=$((port + 1))
    ((port < 65000)) || die "no free port found"
  done
  echo "$port"
}
