using System.Text.Json;
using BananaLab.Core.Errors;
using BananaLab.Core.Idempotency;
using BananaLab.Core.Tasks;
using BananaLab.Web.Api.Errors;
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

    /// <param name="handler">Runs the request; it is given the claim's id to link to the task it commits (null without a key).</param>
    /// <param name="answerFromTask">Answers a retry whose first request committed this task but stored no response.</param>
    public static async Task<IResult> RunAsync(HttpRequest request, Guid userId, string scope, byte[] body,
        IdempotencyStore store, Func<long?, Task<IResult>> handler, Func<Guid, Task<IResult>> answerFromTask,
        CancellationToken cancellationToken)
    {
        var key = request.Headers[Header].ToString();
        if (string.IsNullOrEmpty(key)) return await handler(null);
        if (key.Length > IdempotencyStore.MaxKeyLength)
            return ApiProblems.From(new TaskError(ErrorTypes.InvalidIdempotencyKey, $"The {Header} header is longer than {IdempotencyStore.MaxKeyLength} characters."));

        var claim = await store.ClaimAsync(userId, key, scope, IdempotencyStore.HashRequest(body), cancellationToken);
        switch (claim)
        {
            case IdempotencyClaim.Replay replay:
                request.HttpContext.Response.Headers["Idempotent-Replayed"] = "true";
                return Results.Text(replay.Body, replay.Status >= 400 ? "application/problem+json" : "application/json", statusCode: replay.Status);
            case IdempotencyClaim.Mismatch:
                return ApiProblems.From(new TaskError(ErrorTypes.IdempotencyKeyReused, $"This {Header} was already used with a different request."));
            case IdempotencyClaim.InProgress:
                return ApiProblems.From(new TaskError(ErrorTypes.IdempotencyKeyInProgress, $"A request with this {Header} is still being processed."));
            case IdempotencyClaim.Committed committed:
                var answer = await answerFromTask(committed.TaskId);
                var (answerStatus, answerJson) = Capture(answer, request.HttpContext);
                await store.CompleteAsync(committed.RecordId, answerStatus, answerJson, CancellationToken.None);
                request.HttpContext.Response.Headers["Idempotent-Replayed"] = "true";
                return answer;
        }

        var recordId = ((IdempotencyClaim.Fresh)claim).RecordId;
        IResult result;
        try
        {
            result = await handler(recordId);
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
