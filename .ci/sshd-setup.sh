#!/bin/sh
# Starts a throwaway OpenSSH server on 127.0.0.1 for the SSHTransport tests.
#
# Idempotent: re-running keeps existing keys and users and restarts nothing that already answers.
# Needs root (creates users, sudoers entries, runs sshd). Prints the environment the tests read.
#
#   PGHA_SSHD_DIR   keys, configs and logs (default /tmp/pgha-sshd)
#   PGHA_SSHD_PORT  main server, ed25519 + ECDSA host keys (default 2222)
#   PGHA_SSHD_RSA_PORT  second server with ONLY an RSA host key (default 2223), to test that refusal
set -eu

DIR=${PGHA_SSHD_DIR:-/tmp/pgha-sshd}
PORT=${PGHA_SSHD_PORT:-2222}
RSA_PORT=${PGHA_SSHD_RSA_PORT:-2223}
PW_USER_PASSWORD=${PGHA_SSHD_PASSWORD:-pgha-Test-pw-7}

log() { echo "sshd-setup: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
    log "must run as root"; exit 1
fi

# Test processes may start the fixture at the same moment: one at a time, so keys are made once.
exec 9>"$DIR.lock"
flock 9

missing=""
[ -x /usr/sbin/sshd ] || missing="$missing openssh-server"
command -v sudo >/dev/null 2>&1 || missing="$missing sudo"
command -v ssh-keygen >/dev/null 2>&1 || missing="$missing openssh-client"
if [ -n "$missing" ]; then
    log "installing$missing"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null 2>&1 || {
        apt-get update -q >/dev/null 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null
    }
fi

# Containers lack the audit capability pam_loginuid needs; without this every PAM session
# (password and keyboard-interactive logins) is refused.
if grep -Eq '^session\s+required\s+pam_loginuid.so' /etc/pam.d/sshd 2>/dev/null; then
    sed -i -E 's/^session(\s+)required(\s+)pam_loginuid.so/session\1optional\2pam_loginuid.so/' /etc/pam.d/sshd
fi

mkdir -p "$DIR" /run/sshd
chmod 755 "$DIR"
mkdir -p "$DIR/authorized_keys"

# pghatest: passwordless sudo. pghapw: sudo asks for its password. pghatty: sudo demands a tty.
# pghaone and pghatwo: passwordless sudo, at most one or two channels per connection (MaxSessions).
for user in pghatest pghapw pghatty pghaone pghatwo; do
    if ! id "$user" >/dev/null 2>&1; then
        useradd -m -s /bin/sh "$user"
    fi
    echo "$user:$PW_USER_PASSWORD" | chpasswd
done
mkdir -p /etc/sudoers.d
cat > /etc/sudoers.d/pgha-test <<SUDO
Defaults:pghatest,pghapw,pghatty lecture=never
pghatest ALL=(ALL) NOPASSWD: ALL
pghapw ALL=(ALL) ALL
Defaults:pghatty requiretty
pghatty ALL=(ALL) NOPASSWD: ALL
Defaults:pghaone,pghatwo lecture=never
pghaone ALL=(ALL) NOPASSWD: ALL
pghatwo ALL=(ALL) NOPASSWD: ALL
SUDO
chmod 440 /etc/sudoers.d/pgha-test

key() { # type file [passphrase]
    [ -f "$2" ] || ssh-keygen -q -t "$1" -N "${3:-}" -C "pgha-test-$1" -f "$2"
}
key ed25519 "$DIR/ssh_host_ed25519_key"
key ecdsa "$DIR/ssh_host_ecdsa_key"
key rsa "$DIR/ssh_host_rsa_key"
key ed25519 "$DIR/id_ed25519"
key ecdsa "$DIR/id_ecdsa"
key rsa "$DIR/id_rsa"
key ed25519 "$DIR/id_ed25519_pass" "pgha-passphrase"
# A key no server trusts, used as the "changed" host key in known_hosts tests.
key ed25519 "$DIR/other_host_key"
chmod 600 "$DIR"/id_* "$DIR"/ssh_host_*_key "$DIR/other_host_key"

cat "$DIR/id_ed25519.pub" "$DIR/id_ecdsa.pub" "$DIR/id_rsa.pub" "$DIR/id_ed25519_pass.pub" \
    > "$DIR/authorized_keys/pghatest"
cat "$DIR/id_ed25519.pub" > "$DIR/authorized_keys/pghapw"
cat "$DIR/id_ed25519.pub" > "$DIR/authorized_keys/pghatty"
cat "$DIR/id_ed25519.pub" > "$DIR/authorized_keys/pghaone"
cat "$DIR/id_ed25519.pub" > "$DIR/authorized_keys/pghatwo"
chmod 644 "$DIR"/authorized_keys/*

write_if_changed() { # file: stdin replaces it only when different, so sshd restarts only on change
    tmp="$1.new"; cat > "$tmp"
    if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv -f "$tmp" "$1"; fi
}
common_config() {
    cat <<CONF
ListenAddress 127.0.0.1
AuthorizedKeysFile $DIR/authorized_keys/%u
PasswordAuthentication yes
KbdInteractiveAuthentication yes
UsePAM yes
PermitRootLogin no
MaxStartups 100:30:200
MaxSessions 100
LogLevel VERBOSE
# The key directory lives under the world-writable /tmp.
StrictModes no
MaxAuthTries 20
Subsystem sftp /usr/lib/openssh/sftp-server
# Hardened servers allow few channels per connection (CIS 5.1.17).
Match User pghaone
    MaxSessions 1
Match User pghatwo
    MaxSessions 2
CONF
}
{
    echo "Port $PORT"
    echo "HostKey $DIR/ssh_host_ed25519_key"
    echo "HostKey $DIR/ssh_host_ecdsa_key"
    echo "PidFile $DIR/sshd.pid"
    common_config
} | write_if_changed "$DIR/sshd_config"
{
    echo "Port $RSA_PORT"
    echo "HostKey $DIR/ssh_host_rsa_key"
    echo "PidFile $DIR/sshd_rsa.pid"
    common_config
} | write_if_changed "$DIR/sshd_rsa_config"

start() { # config pidfile port
    if [ -f "$2" ] && kill -0 "$(cat "$2")" 2>/dev/null; then
        # A running server keeps its config unless the file changed since it started.
        if [ ! "$1" -nt "$2" ]; then return 0; fi
        kill "$(cat "$2")"; rm -f "$2"; sleep 0.2
    fi
    /usr/sbin/sshd -t -f "$1"
    /usr/sbin/sshd -f "$1" -E "$DIR/sshd-$3.log"
    i=0
    # sshd writes its pid file once it listens.
    while ! { [ -f "$2" ] && kill -0 "$(cat "$2")" 2>/dev/null; }; do
        i=$((i + 1))
        [ $i -lt 50 ] || { log "sshd on port $3 did not start; see $DIR/sshd-$3.log"; exit 1; }
        sleep 0.1
    done
}
start "$DIR/sshd_config" "$DIR/sshd.pid" "$PORT"
start "$DIR/sshd_rsa_config" "$DIR/sshd_rsa.pid" "$RSA_PORT"

echo "export PGHA_SSHD_DIR=$DIR"
echo "export PGHA_SSHD_PORT=$PORT"
echo "export PGHA_SSHD_RSA_PORT=$RSA_PORT"
echo "export PGHA_SSHD_PASSWORD=$PW_USER_PASSWORD"
