#!/usr/bin/env bash
# Three convscope replicas on loopback ports 8081-8083 behind nginx on
# 8080, with deploy/nginx/convscope.conf as it is: the layout docs/DEPLOY.md
# describes and web/browser_replicas_test.go tests, to try on one machine.
# Needs nginx (apt-get install nginx-light). Ctrl-C stops all four.
#
#   deploy/local.sh             # then open http://127.0.0.1:8080/
set -euo pipefail
cd "$(dirname "$0")/.."
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || { echo "no nginx: apt-get install nginx-light" >&2; exit 1; }
dir=$(mktemp -d)
chmod 755 "$dir"
go build -o "$dir/convscope-server" ./cmd/server
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait; rm -rf "$dir"' EXIT INT TERM
for port in 8081 8082 8083; do
  extra=(-allow-training=false)
  [ "$port" = 8081 ] && extra=()  # the home replica trains
  "$dir/convscope-server" -addr "127.0.0.1:$port" -replica "r$port" -memory "${MEMORY_MIB:-2048}" "${extra[@]}" 2>"$dir/r$port.log" &
  pids+=($!)
done
cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    include $PWD/deploy/nginx/convscope.conf;
}
CONF
"$nginx" -p "$dir" -e "$dir/nginx-error.log" -c "$dir/nginx.conf" -g 'daemon off;' &
pids+=($!)
echo "replicas' logs in $dir; serving http://127.0.0.1:8080/ (Ctrl-C stops)"
wait
