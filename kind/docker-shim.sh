#!/usr/bin/env bash
# The `docker` kind sees on hosts where `docker run --privileged` fails (src/lab/kind/host.ts decides;
# kind/up.sh puts this first on PATH for kind's own calls only; nothing else uses it).
#
# kind runs node containers with `docker run --privileged` and in-node commands with `docker exec
# --privileged`. Docker Engine 20.10 then asks runc for every capability it knows, and runc fails
# ("unable to apply caps: operation not permitted") when the host's bounding set lacks one (e.g. a VM
# without CAP_SYS_RESOURCE). Here --privileged becomes what kind needs from it, minus what the host lacks:
# all capabilities but the missing ones, unconfined /proc and /sys paths, every device, /dev/kmsg, and a
# flag for the node image's entrypoint to remount the cgroup v1 hierarchies writable.
REAL=${PURPLEKIND_REAL_DOCKER:?PURPLEKIND_REAL_DOCKER must name the real docker CLI}
bnd=$((16#$(awk '/^CapBnd/{print $2}' /proc/self/status)))
names=(CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE
  NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN
  SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE
  MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ)
drops=()
for i in "${!names[@]}"; do (((bnd >> i) & 1)) || drops+=("--cap-drop=${names[$i]}"); done
args=() sub=""
for a in "$@"; do
  [[ -z $sub && $a != -* ]] && sub=$a
  if [[ $a == --privileged ]]; then
    case $sub in
      run | create) args+=(--cap-add=ALL "${drops[@]}" --security-opt=systempaths=unconfined
        "--device-cgroup-rule=a *:* rwm" --device=/dev/kmsg -e PURPLEKIND_CGROUP_RW=1) ;;
      exec) ;; # an exec inherits the container's capability set
      *) args+=("$a") ;;
    esac
    continue
  fi
  args+=("$a")
done
exec "$REAL" "${args[@]}"
