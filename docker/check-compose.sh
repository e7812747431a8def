#!/bin/sh
# Validate docker/docker-compose.yml without a Docker engine.
#
#   sh docker/check-compose.sh        (from anywhere)
#
# 1. With every value from docker/.env.example (in a temporary env file),
#    `docker-compose config` must succeed and leave no ${...} uninterpolated.
# 2. With one required secret missing (each of REQUIRED in turn, SECRET_KEY
#    included), `docker-compose config` must fail and name that variable.
# 3. No placeholder value of .env.example may appear literally in the
#    compose file (secrets come from the environment only).
#
# Uses `docker-compose` (Debian: apt-get install docker-compose) or, failing
# that, the `docker compose` plugin. Only `config` is run: no engine needed.
# A real docker/.env and the caller's environment are ignored.
#
# Exit status: 0 all checks passed, 1 a check failed, 2 no compose tool.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
compose_file="$here/docker-compose.yml"
example="$here/.env.example"
REQUIRED="MYSQL_PASSWORD MYSQL_ROOT_PASSWORD MINIO_ROOT_USER MINIO_ROOT_PASSWORD SECRET_KEY"

if command -v docker-compose >/dev/null 2>&1; then
    compose="docker-compose"
elif docker compose version >/dev/null 2>&1; then
    compose="docker compose"
else
    echo "check-compose: no docker-compose and no 'docker compose' (apt-get install docker-compose)" >&2
    exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

failed=0
fail() {
    echo "check-compose: FAIL: $*" >&2
    failed=1
}

# Run `compose config` with only the given env file: a clean environment, so
# neither the caller's variables nor docker/.env can fill in a value.
compose_config() {
    # $compose is unquoted on purpose: it may be the two words "docker compose".
    # shellcheck disable=SC2086
    (cd "$here" && env -i PATH="$PATH" HOME="${HOME:-$tmp}" \
        $compose --project-directory "$here" -f "$compose_file" --env-file "$1" config)
}

# 1. The full example env file gives a valid, fully interpolated config.
cp "$example" "$tmp/full.env"
if compose_config "$tmp/full.env" >"$tmp/out" 2>"$tmp/err"; then
    # shellcheck disable=SC2016  # a literal "${" is what is looked for
    if grep -n '\${' "$tmp/out" >&2; then
        fail "uninterpolated \${...} left in the rendered config (above)"
    fi
    for service in web db minio redis; do
        grep -q "^  $service:" "$tmp/out" || fail "service '$service' missing from the rendered config"
    done
    for volume in db-data minio-data; do
        grep -q "^  $volume:" "$tmp/out" || fail "volume '$volume' missing from the rendered config"
    done
    echo "check-compose: ok: config is valid with the values of .env.example"
else
    cat "$tmp/err" >&2
    fail "'$compose config' failed with the values of .env.example"
fi

# 2. Each required secret, when missing, makes config fail and names it.
for var in $REQUIRED; do
    grep -q "^$var=" "$example" || fail "$var is not in .env.example"
    grep -v "^$var=" "$example" >"$tmp/missing.env"
    if compose_config "$tmp/missing.env" >"$tmp/out" 2>"$tmp/err"; then
        fail "'$compose config' succeeded although $var is unset"
    else
        # The message is what follows the last ": " of the last line, both
        # for docker-compose v1 and for the v2 plugin.
        message=$(grep . "$tmp/err" | tail -n 1 | sed 's/.*: //')
        case "$message" in
            *"$var"*) echo "check-compose: ok: unset $var fails with: $message" ;;
            *)
                cat "$tmp/err" >&2
                fail "'$compose config' failed without naming $var in its message (above)"
                ;;
        esac
    fi
done

# 3. No example secret value is written literally into the compose file.
for var in $REQUIRED; do
    value=$(sed -n "s/^$var=//p" "$example")
    if [ -n "$value" ] && grep -qF -- "$value" "$compose_file"; then
        fail "the value of $var from .env.example appears literally in docker-compose.yml"
    fi
done

if [ "$failed" -ne 0 ]; then
    exit 1
fi
echo "check-compose: all checks passed"
