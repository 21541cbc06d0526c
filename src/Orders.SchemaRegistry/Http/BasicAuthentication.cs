using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Orders.SchemaRegistry.Security;

namespace Orders.SchemaRegistry.Http;

/// <summary>
/// HTTP basic authentication in front of every endpoint, answering as Confluent's registry does:
/// 401, <c>{"error_code":401,"message":"Unauthorized"}</c> and a <c>WWW-Authenticate</c>
/// challenge, whether the credentials are missing, malformed or wrong.
/// </summary>
public static partial class BasicAuthentication
{
    public const string Realm = "SchemaRegistry";

    public static IApplicationBuilder UseBasicAuthentication(this IApplicationBuilder app, RegistryUsers users, ILogger logger) =>
        app.Use(async (context, next) =>
        {
            if (users.VerifyHeader(context.Request.Headers.Authorization.FirstOrDefault(), out var user))
            {
                await next(context);
                return;
            }

            // The user name only: never the header, which carries the password.
            LogRejected(logger, context.Request.Method, context.Request.Path, user ?? "(none)");
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = $"Basic realm=\"{Realm}\", charset=\"UTF-8\"";
            context.Response.ContentType = RegistryApi.ContentType;
            await context.Response.WriteAsync(RegistryApi.ErrorJson(401, "Unauthorized"));
        });

    [LoggerMessage(2, LogLevel.Debug, "Schema Registry refused {Method} {Path}: missing or wrong credentials (user {User})")]
    private static partial void LogRejected(ILogger logger, string method, string path, string user);
}
