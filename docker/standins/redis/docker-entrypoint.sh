#!/bin/sh
# The official image's behaviour the compose file relies on: `redis-server --opt ...` without a
# config file serves every address of the container's network (protected mode off; the port is
# reachable only on the compose network). Anything else runs as given.
set -eu
if [ "${1:-}" = redis-server ]; then
  shift
  case "${1:-}" in
    ""|-*) set -- redis-server --protected-mode no "$@" ;;
    *) set -- redis-server "$@" ;;
  esac
fi
exec "$@"
