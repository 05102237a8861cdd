# Starts a throwaway PostgreSQL server for the state/pgstore tests and exports
# KEYSYNC_TEST_POSTGRES. Sourced by .ci/run; installs Debian's postgresql if needed.

pg_bin() {
	local dir
	for dir in /usr/lib/postgresql/*/bin; do
		if [ -x "$dir/initdb" ]; then
			echo "$dir"
			return 0
		fi
	done
	return 1
}

start_postgres() {
	if ! pg_bin >/dev/null; then
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
	fi
	local bin port data
	bin=$(pg_bin)
	port=${KEYSYNC_PG_PORT:-55432}
	data=$(mktemp -d /tmp/keysync-pg.XXXXXX)
	chown postgres:postgres "$data"
	su postgres -s /bin/sh -c "$bin/initdb -D $data -A trust -U postgres" >/dev/null
	su postgres -s /bin/sh -c \
		"$bin/pg_ctl -D $data -l $data/log -o '-p $port -k $data -c listen_addresses=127.0.0.1' -w start" >/dev/null
	trap "su postgres -s /bin/sh -c '$bin/pg_ctl -D $data -m fast stop' >/dev/null 2>&1; rm -rf $data" EXIT
	su postgres -s /bin/sh -c "$bin/createdb -h 127.0.0.1 -p $port keysync_test"
	export KEYSYNC_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/keysync_test?sslmode=disable"
	echo "PostgreSQL running on 127.0.0.1:$port"
}
