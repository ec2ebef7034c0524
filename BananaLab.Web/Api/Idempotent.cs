using System.Text.Json;
using BananaLab.Core.Idempotency;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace BananaLab.Web.Api;

/// <summary>
/// <c>Idempotency-Key</c> support for creates: the same key and body replay the first response;
/// the same key with another body answers 409.
/// </summary>
public static class Idempotent
{
    public const string Header = "Idempotency-Key";

    public static async Task<IResult> RunAsync(HttpRequest request, Guid userId, string scope, byte[] body,
        IdempotencyStore store, Func<Task<IResult>> handler, CancellationToken cancellationToken)
    {
        var key = request.Headers[Header].ToString();
        if (string.IsNullOrEmpty(key)) return await handler();
        if (key.Length > IdempotencyStore.MaxKeyLength)
            return ApiProblems.Invalid($"The {Header} header is longer than {IdempotencyStore.MaxKeyLength} characters.", "invalid_idempotency_key");

        var claim = await store.ClaimAsync(userId, key, scope, IdempotencyStore.HashRequest(body), cancellationToken);
        switch (claim)
        {
            case IdempotencyClaim.Replay replay:
                request.HttpContext.Response.Headers["Idempotent-Replayed"] = "true";
                return Results.Text(replay.Body, replay.Status >= 400 ? "application/problem+json" : "application/json", statusCode: replay.Status);
            case IdempotencyClaim.Mismatch:
                return ApiProblems.Invalid($"This {Header} was already used with a different request.", "idempotency_key_reused", StatusCodes.Status409Conflict);
            case IdempotencyClaim.InProgress:
                return ApiProblems.Invalid($"A request with this {Header} is still being processed.", "idempotency_key_in_progress", StatusCodes.Status409Conflict);
        }

        var recordId = ((IdempotencyClaim.Fresh)claim).RecordId;
        IResult result;
        try
        {
            result = await handler();
        }
        catch
        {
            await store.AbandonAsync(recordId, CancellationToken.None);
            throw;
        }
        var (status, json) = Capture(result, request.HttpContext);
        await store.CompleteAsync(recordId, status, json, CancellationToken.None);
        return result;
    }

    private static (int Status, string Json) Capture(IResult result, HttpContext context)
    {
        var options = context.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        return result switch
        {
            IStatusCodeHttpResult { StatusCode: { } code } and IValueHttpResult { Value: { } value } =>
                (code, JsonSerializer.Serialize(value, value.GetType(), options)),
            ProblemHttpResult problem => (problem.StatusCode, JsonSerializer.Serialize(problem.ProblemDetails, options)),
            IStatusCodeHttpResult { StatusCode: { } code } => (code, ""),
            _ => (StatusCodes.Status200OK, ""),
        };
    }
}
