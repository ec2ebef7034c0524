using System.Text;
using BananaLab.Core.Idempotency;

namespace BananaLab.Web.Api.Dialects;

/// <summary>
/// What the synchronous calls of every dialect (submit and wait in one request) share: how an identical retry is
/// recognised (see <see cref="BananaLab.Core.Tasks.TaskService.RunSynchronousAsync"/>), and the header that tells
/// clients not to retry an answer that ended before the result.
/// </summary>
public static class SynchronousCalls
{
    /// <summary>The OpenAI SDKs (Stainless-generated) number their automatic retries with this header.</summary>
    public const string RetryCountHeader = "X-Stainless-Retry-Count";
    /// <summary>Honoured by the OpenAI SDKs (Node, .NET, Python): <c>false</c> stops their automatic retries.</summary>
    public const string ShouldRetryHeader = "x-should-retry";

    /// <param name="request">The call, for its retry header.</param>
    /// <param name="dialect">Which dialect's call: identical bodies in two dialects are two calls.</param>
    /// <param name="canonicalBody">The request's content, the same for the same request however it was encoded.</param>
    /// <param name="wait">How long the dialect waits for the result.</param>
    public static SynchronousSubmission Identify(HttpRequest request, string dialect, string canonicalBody, TimeSpan wait) =>
        new(dialect, IdempotencyStore.HashRequest(Encoding.UTF8.GetBytes(canonicalBody)), IsMarkedRetry(request), wait);

    /// <summary>
    /// Marks an answer given while the task goes on: a client retrying it would only wait on the same task (or, for a
    /// client that changes the body, buy a second one), so SDKs that retry 5xx on their own are asked not to.
    /// </summary>
    public static void DoNotRetry(HttpResponse response) => response.Headers[ShouldRetryHeader] = "false";

    private static bool IsMarkedRetry(HttpRequest request) =>
        int.TryParse(request.Headers[RetryCountHeader].ToString(), out var retries) && retries > 0;
}
