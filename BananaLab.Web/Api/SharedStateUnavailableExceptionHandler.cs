using Microsoft.AspNetCore.Diagnostics;
using StackExchange.Redis;

namespace BananaLab.Web.Api;

/// <summary>
/// In a cluster, session keys live in Redis. While Redis cannot be reached, a call that needs it is
/// answered 503 with Retry-After and a plain reason instead of a 500; nothing was changed.
/// </summary>
public sealed class SharedStateUnavailableExceptionHandler(IProblemDetailsService problems, ILogger<SharedStateUnavailableExceptionHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not (RedisException or RedisTimeoutException)) return false;
        logger.LogWarning("Redis is unavailable for {Path}: {Error}", context.Request.Path, exception.Message);
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = "5";
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Temporarily unavailable",
                Detail = "The cluster's shared session store (Redis) cannot be reached right now; nothing was changed. Retry in a few seconds.",
                Extensions = { ["code"] = "shared_state_unavailable" },
            },
        });
    }
}
