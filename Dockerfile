# The `orders` executable. Build context: the repository root.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/Orders.Cli -c Release -o /app

# ASP.NET Core runtime: `orders stack` and `orders demo` host the Schema Registry.
FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
USER app
ENTRYPOINT ["dotnet", "orders.dll"]
