#!/usr/bin/env bash
# Runs the Cluster lane of the integration tests (dotnet test --filter Category=Cluster) against a
# cluster it did not start itself:
#   scripts/cluster-lane.sh --compose        docker compose up -d (Apache Kafka, Confluent Schema Registry),
#                                            the lane against localhost:9092 / localhost:8081, then down -v
#   scripts/cluster-lane.sh --stack 3.9      `orders stack --kafka-version 3.9` as a process of its own
#   scripts/cluster-lane.sh --external       ORDERS_TEST_BOOTSTRAP and ORDERS_TEST_REGISTRY as already set
#                                            (credentials: Kafka__*/SchemaRegistry__*, as for orders)
# Extra arguments after -- go to dotnet test. Exit code: dotnet test's.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  sed -n '2,9p' "$0" >&2
  exit 2
}

mode=${1:-}
shift || true
version=""
if [ "$mode" = "--stack" ]; then
  version=${1:-}
  [ -n "$version" ] || usage
  shift
fi
if [ "${1:-}" = "--" ]; then
  shift
fi

lane() {
  dotnet test tests/Orders.IntegrationTests --filter Category=Cluster "$@"
}

# The first port from $1 that nothing listens on, looking at most 100 ports up.
free_port() {
  local port=$1
  for _ in $(seq 1 100); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
    port=$((port + 1))
  done
  echo "cluster-lane: no free port from $1" >&2
  exit 1
}

case "$mode" in
  --compose)
    command -v docker >/dev/null || { echo "cluster-lane: docker is not installed" >&2; exit 1; }
    # `wait` is Compose v2's (the docker plugin); docker-compose 1.x has neither the plugin's syntax nor it.
    docker compose version >/dev/null 2>&1 || { echo "cluster-lane: --compose needs Docker Compose v2 (docker compose version)" >&2; exit 1; }
    # A project of its own: `down -v` at the end removes this lane's containers and volumes, never a stack started by hand.
    project="orders-cluster-lane-$$"
    trap 'docker compose -p "$project" down -v >/dev/null 2>&1 || true' EXIT
    docker compose -p "$project" up -d
    # kafka-init creates the topics and exits; the registry is ready once it answers.
    docker compose -p "$project" wait kafka-init
    registry_up=false
    for _ in $(seq 1 60); do
      if curl -fsS http://localhost:8081/subjects >/dev/null 2>&1; then
        registry_up=true
        break
      fi
      sleep 2
    done
    [ "$registry_up" = true ] || { echo "cluster-lane: the Schema Registry at http://localhost:8081 did not answer within 120 s" >&2; exit 1; }
    ORDERS_TEST_BOOTSTRAP=localhost:9092 ORDERS_TEST_REGISTRY=http://localhost:8081 lane "$@"
    ;;
  --stack)
    build_log=$(mktemp)
    # MSBuild writes its errors to stdout: kept, and shown when the build fails.
    dotnet build src/Orders.Cli --nologo -v q >"$build_log" 2>&1 || { cat "$build_log" >&2; rm -f "$build_log"; echo "cluster-lane: the build failed" >&2; exit 1; }
    rm -f "$build_log"
    # Below the kernel's ephemeral range (32768 and up by default), where a client socket of an earlier
    # test run can still hold a port in TIME_WAIT; the next free port from there.
    kafka_port=$(free_port "${ORDERS_LANE_KAFKA_PORT:-19092}")
    registry_port=$(free_port "${ORDERS_LANE_REGISTRY_PORT:-18081}")
    stack_log=$(mktemp)
    dotnet src/Orders.Cli/bin/Debug/net10.0/orders.dll stack --kafka-version "$version" \
      --kafka-port "$kafka_port" --registry-port "$registry_port" >"$stack_log" 2>&1 &
    stack=$!
    trap 'kill "$stack" 2>/dev/null || true; wait "$stack" 2>/dev/null || true; rm -f "$stack_log"' EXIT
    for _ in $(seq 1 60); do
      grep -q "Press Ctrl+C" "$stack_log" && break
      kill -0 "$stack" 2>/dev/null || { cat "$stack_log" >&2; exit 1; }
      sleep 1
    done
    grep -q "Press Ctrl+C" "$stack_log" || { echo "cluster-lane: the stack did not start" >&2; cat "$stack_log" >&2; exit 1; }
    ORDERS_TEST_BOOTSTRAP="localhost:$kafka_port" ORDERS_TEST_REGISTRY="http://localhost:$registry_port" lane "$@"
    ;;
  --external)
    if [ -z "${ORDERS_TEST_BOOTSTRAP:-}" ] || [ -z "${ORDERS_TEST_REGISTRY:-}" ]; then
      echo "cluster-lane: set ORDERS_TEST_BOOTSTRAP and ORDERS_TEST_REGISTRY" >&2
      exit 2
    fi
    lane "$@"
    ;;
  *)
    usage
    ;;
esac
