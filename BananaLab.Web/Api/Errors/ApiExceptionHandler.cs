using System.Text.Json;
using BananaLab.Core.Errors;
using BananaLab.Core.Tasks;
using Microsoft.AspNetCore.Diagnostics;
using StackExchange.Redis;

namespace BananaLab.Web.Api.Errors;

/// <summary>
/// Exceptions an API call can end in, answered as an error in the endpoint's own envelope (<see cref="ApiErrorWriter.For"/>)
/// instead of an exception page or a bare 500: a field that could not be read (<see cref="ApiErrorException"/>), a malformed
/// or oversize body, the cluster's shared store (Redis) out of reach (503 with Retry-After; nothing was changed), and, on a
/// dialect's endpoints, anything else (Banana's contract is never a 500). Other exceptions of the native API are left to
/// the framework's problem details.
/// </summary>
public sealed class ApiExceptionHandler(ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    /// <summary>Seconds a caller is asked to wait before retrying a call that needed the unreachable shared store.</summary>
    public const int SharedStateRetryAfterSeconds = 5;

    /// <summary>Answers the exception in the endpoint's envelope; false leaves it to the framework (the native API's own faults).</summary>
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        // The middleware has cleared the endpoint by now; its feature keeps the one that threw.
        var dialect = ApiErrorWriter.Of(context.Features.Get<IExceptionHandlerFeature>()?.Endpoint?.Metadata);
        var error = exception switch
        {
            ApiErrorException e => e.Error,
            BadHttpRequestException bad => BadRequest(bad),
            RedisException or RedisTimeoutException => SharedStateUnavailable(context, exception),
            _ when dialect is not null => Unexpected(context, exception),
            _ => null,
        };
        if (error is null) return false;
        await (dialect ?? ApiErrorWriter.Problems).Write(error, context).ExecuteAsync(context);
        return true;
    }

    private static TaskError BadRequest(BadHttpRequestException bad) => bad.StatusCode == StatusCodes.Status413PayloadTooLarge
        ? new TaskError(ErrorTypes.BodyTooLarge, bad.Message)
        : TaskErrors.InvalidRequest(bad.InnerException is JsonException json
            ? $"The request body is not valid JSON for this endpoint: {json.Message}"
            : bad.Message);

    private TaskError SharedStateUnavailable(HttpContext context, Exception exception)
    {
        logger.LogWarning("Redis is unavailable for {Path}: {Error}", context.Request.Path, exception.Message);
        context.Response.Headers.RetryAfter = SharedStateRetryAfterSeconds.ToString();
        return new TaskError(ErrorTypes.SharedStateUnavailable,
            "The cluster's shared session store (Redis) cannot be reached right now; nothing was changed. Retry in a few seconds.");
    }

    private TaskError Unexpected(HttpContext context, Exception exception)
    {
        logger.LogError(exception, "{Method} {Path} failed", context.Request.Method, context.Request.Path);
        return new TaskError(ErrorTypes.Unexpected, "server error, please try again");
    }
}

/// <summary>Registers how the API answers errors.</summary>
public static class ApiErrorsServiceCollectionExtensions
{
    /// <summary>Problem details for the native API (with a code for the framework's own) and <see cref="ApiExceptionHandler"/>.</summary>
    public static IHostApplicationBuilder AddBananaLabApiErrors(this IHostApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails(ApiProblems.DescribeStatusOnlyProblems);
        builder.Services.AddExceptionHandler<ApiExceptionHandler>();
        return builder;
    }
}
