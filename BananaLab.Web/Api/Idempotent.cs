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
    /// <returns>The handler's answer, a replayed one (the stored JSON, as it was), or a problem with the key.</returns>
    public static async Task<Results<Created<T>, ProblemHttpResult, ContentHttpResult>> RunAsync<T>(HttpRequest request, Guid userId, string scope,
        byte[] body, IdempotencyStore store, Func<long?, Task<Results<Created<T>, ProblemHttpResult>>> handler,
        Func<Guid, Task<Results<Created<T>, ProblemHttpResult>>> answerFromTask, CancellationToken cancellationToken)
    {
        var key = request.Headers[Header].ToString();
        if (string.IsNullOrEmpty(key)) return Widen(await handler(null));
        if (key.Length > IdempotencyStore.MaxKeyLength)
            return ApiProblems.From(new TaskError(ErrorTypes.InvalidIdempotencyKey, $"The {Header} header is longer than {IdempotencyStore.MaxKeyLength} characters."));

        var claim = await store.ClaimAsync(userId, key, scope, IdempotencyStore.HashRequest(body), cancellationToken);
        switch (claim)
        {
            case IdempotencyClaim.Replay replay:
                request.HttpContext.Response.Headers["Idempotent-Replayed"] = "true";
                return TypedResults.Text(replay.Body, replay.Status >= 400 ? "application/problem+json" : "application/json", statusCode: replay.Status);
            case IdempotencyClaim.Mismatch:
                return ApiProblems.From(new TaskError(ErrorTypes.IdempotencyKeyReused, $"This {Header} was already used with a different request."));
            case IdempotencyClaim.InProgress:
                return ApiProblems.From(new TaskError(ErrorTypes.IdempotencyKeyInProgress, $"A request with this {Header} is still being processed."));
            case IdempotencyClaim.Committed committed:
                var answer = await answerFromTask(committed.TaskId);
                var (answerStatus, answerJson) = Capture(answer.Result, request.HttpContext);
                await store.CompleteAsync(committed.RecordId, answerStatus, answerJson, CancellationToken.None);
                request.HttpContext.Response.Headers["Idempotent-Replayed"] = "true";
                return Widen(answer);
        }

        var recordId = ((IdempotencyClaim.Fresh)claim).RecordId;
        Results<Created<T>, ProblemHttpResult> result;
        try
        {
            result = await handler(recordId);
        }
        catch
        {
            await store.AbandonAsync(recordId, CancellationToken.None);
            throw;
        }
        var (status, json) = Capture(result.Result, request.HttpContext);
        await store.CompleteAsync(recordId, status, json, CancellationToken.None);
        return Widen(result);
    }

    private static Results<Created<T>, ProblemHttpResult, ContentHttpResult> Widen<T>(Results<Created<T>, ProblemHttpResult> result) =>
        result.Result switch
        {
            Created<T> created => created,
            ProblemHttpResult problem => problem,
            var other => throw new InvalidOperationException($"Unexpected result {other.GetType()}."),
        };

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
