# Build: restore and publish with the SDK.
# Pinned to the SDK and runtime the relay is built and tested with; raise both together.
FROM mcr.microsoft.com/dotnet/sdk:10.0.401 AS build
# npm restores the overlay page's SignalR browser client during the build.
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /source
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/EventSubRelay/EventSubRelay.csproj src/EventSubRelay/
RUN dotnet restore src/EventSubRelay/EventSubRelay.csproj
COPY src/ src/
# The relay embeds its README and docs, and serves them at /docs/.
COPY README.md ./
COPY docs/ docs/
RUN dotnet publish src/EventSubRelay/EventSubRelay.csproj -c Release --no-restore -o /app

# Run: the ASP.NET Core runtime only, as the image's unprivileged user.
FROM mcr.microsoft.com/dotnet/aspnet:10.0.12 AS runtime
WORKDIR /app
COPY --from=build /app ./
ENV ASPNETCORE_HTTP_PORTS=8080 \
    ASPNETCORE_ENVIRONMENT=Production
EXPOSE 8080
USER $APP_UID
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["dotnet", "EventSubRelay.dll", "healthcheck"]
ENTRYPOINT ["dotnet", "EventSubRelay.dll"]
