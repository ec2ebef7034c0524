using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;

namespace BananaLab.Web.Api;

/// <summary>
/// Malformed bodies (broken JSON, wrong types) become a 400 problem that says what was wrong,
/// in every environment, instead of an exception page or a 500.
/// </summary>
public sealed class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad) return false;
        var detail = bad.InnerException is JsonException json
            ? $"The request body is not valid JSON for this endpoint: {json.Message}"
            : bad.Message;
        context.Response.StatusCode = bad.StatusCode;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails =
            {
                Status = bad.StatusCode,
                Title = "Invalid request",
                Detail = detail,
                Extensions = { ["code"] = bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "body_too_large" : "invalid_request" },
            },
        });
    }
}
