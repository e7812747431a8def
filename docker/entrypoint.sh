#!/bin/sh
# Container entrypoint for the web service.
#
# 1. Apply the Alembic migrations (`flask --app web upgrade-db`), retrying a
#    bounded number of times while the database is still starting.
# 2. Run the given command if there is one (e.g. `docker-compose run --rm web
#    flask --app web load-examples`), after making the admin named by
#    ADMIN_USERNAME when it is set (`flask --app web create-admin --from-env`);
#    otherwise exec gunicorn, whose start makes that admin (web/gunicorn_conf.py).
#
# DB_UPGRADE_TRIES (default 30) and DB_UPGRADE_DELAY (seconds, default 2)
# tune step 1.
set -eu

cd /app

tries="${DB_UPGRADE_TRIES:-30}"
delay="${DB_UPGRADE_DELAY:-2}"

attempt=1
until flask --app web upgrade-db; do
    if [ "$attempt" -ge "$tries" ]; then
        echo "entrypoint: 'flask --app web upgrade-db' failed $attempt times; giving up" >&2
        exit 1
    fi
    echo "entrypoint: upgrade-db failed (attempt $attempt/$tries); the database may still be starting, retrying in ${delay}s" >&2
    attempt=$((attempt + 1))
    sleep "$delay"
done

if [ "$#" -gt 0 ]; then
    if [ -n "${ADMIN_USERNAME:-}" ]; then
        flask --app web create-admin --from-env
    fi
    exec "$@"
fi

exec gunicorn --config web/gunicorn_conf.py "web:create_app()"
