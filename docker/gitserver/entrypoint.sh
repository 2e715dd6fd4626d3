#!/bin/bash
# Creates the bare repositories REPOSITORIES names unless they exist, then serves /srv/git over
# SSH on :2222 and HTTPS on :8443. The container ends as soon as either server does.
#
# Read from files (mounted Secrets): SSH_HOST_KEY_FILE, SSH_AUTHORIZED_KEYS_FILE,
# GIT_PASSWORD_FILE (with GIT_USERNAME), TLS_CERT_FILE and TLS_KEY_FILE.
set -euo pipefail
: "${SSH_HOST_KEY_FILE:?set the path of the SSH host key}"
: "${SSH_AUTHORIZED_KEYS_FILE:?set the path of the authorized_keys file}"
export GIT_PROJECT_ROOT=/srv/git

for name in ${REPOSITORIES:-}; do
    repository="$GIT_PROJECT_ROOT/$name.git"
    if [ ! -d "$repository" ]; then
        git init --quiet --bare --initial-branch=main "$repository"
        git -C "$repository" config http.receivepack true
        echo "created $repository"
    fi
done

# sshd refuses a private key others may read; the copies are this user's, mode 600.
install -d -m 700 /tmp/sshd
install -m 600 "$SSH_HOST_KEY_FILE" /tmp/sshd/host_key
install -m 600 "$SSH_AUTHORIZED_KEYS_FILE" /tmp/sshd/authorized_keys

/usr/sbin/sshd -D -e -f /etc/gitserver/sshd_config &
/usr/local/bin/git-https &
wait -n
