# The `orders` executable. Build context: the repository root (.dockerignore keeps it to what the build reads).
# The SDK runs on the build machine's platform and publishes for the target's (docker buildx --platform).
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG TARGETARCH
WORKDIR /src

# Restore from the project files alone, so that this layer (the packages) is reused until a
# dependency changes, not rebuilt on every source edit. Every project under src/ is listed
# (.ci/run checks it): the CLI references nearly all of them.
COPY global.json Directory.Build.props Directory.Packages.props Orders.slnx ./
COPY src/Orders.Avro/Orders.Avro.csproj src/Orders.Avro/
COPY src/Orders.Bench/Orders.Bench.csproj src/Orders.Bench/
COPY src/Orders.Cli/Orders.Cli.csproj src/Orders.Cli/
COPY src/Orders.Contracts/Orders.Contracts.csproj src/Orders.Contracts/
COPY src/Orders.DeadLetters/Orders.DeadLetters.csproj src/Orders.DeadLetters/
COPY src/Orders.Decoding/Orders.Decoding.csproj src/Orders.Decoding/
COPY src/Orders.Hosting/Orders.Hosting.csproj src/Orders.Hosting/
COPY src/Orders.Kafka/Orders.Kafka.csproj src/Orders.Kafka/
COPY src/Orders.LocalStack/Orders.LocalStack.csproj src/Orders.LocalStack/
COPY src/Orders.Monitoring/Orders.Monitoring.csproj src/Orders.Monitoring/
COPY src/Orders.Processor/Orders.Processor.csproj src/Orders.Processor/
COPY src/Orders.Producer/Orders.Producer.csproj src/Orders.Producer/
COPY src/Orders.RegistryClient/Orders.RegistryClient.csproj src/Orders.RegistryClient/
COPY src/Orders.SchemaRegistry/Orders.SchemaRegistry.csproj src/Orders.SchemaRegistry/
# -a takes Docker's architecture names (amd64, arm64). For one architecture, librdkafka.redist's
# native libraries of that platform only are published (without it: every platform's, under runtimes/).
RUN dotnet restore src/Orders.Cli -a $TARGETARCH

COPY .editorconfig ./
COPY src/ src/
# For one platform, so compiled ahead of time (ReadyToRun, Orders.Cli.csproj): the restore above
# fetched the compiler, and it compiles for $TARGETARCH from the build machine's platform.
RUN dotnet publish src/Orders.Cli -c Release -a $TARGETARCH --self-contained false --no-restore -o /app

# ASP.NET Core runtime (Ubuntu 24.04 for .NET 10): `orders stack` and `orders demo` host the Schema
# Registry. It has no curl or wget: compose's healthchecks run `orders health` instead.
FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
# By number (the image's APP_UID, 1654), not name: Kubernetes' runAsNonRoot can verify only a number
# ("image has non-numeric user (app), cannot verify user is non-root").
USER $APP_UID
ENTRYPOINT ["dotnet", "orders.dll"]
