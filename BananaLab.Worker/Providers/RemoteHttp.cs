using System.Net;
using System.Net.Http.Headers;
using BananaLab.Core.Catalog;
using BananaLab.Core.Generation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Timeout;

namespace BananaLab.Worker.Providers;

/// <summary>
/// What the HTTP providers (<c>gemini</c>, <c>automatic1111</c>) share: their <see cref="HttpClient"/> with its resilience
/// pipeline, and the translation of an HTTP failure into a <see cref="GenerationException"/> with the stable codes of
/// <see cref="GenerationErrors"/>. Messages name the status and the setting to check, never the key or the provider's body.
/// </summary>
public static class RemoteHttp
{
    /// <summary>How long one request may take; set on each request (<see cref="WithTimeout"/>), read by the pipeline's timeout.</summary>
    private static readonly HttpRequestOptionsKey<TimeSpan> Timeout = new("BananaLab.RequestTimeout");

    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Registers an HTTP provider: its generator (<see cref="ImageGeneratorServiceCollectionExtensions.AddImageGenerator{TGenerator}"/>),
    /// the validator of its catalog entries, and its client (<see cref="AddRemoteProviderClient"/>) named <paramref name="name"/>.
    /// </summary>
    public static IServiceCollection AddRemoteProvider<TGenerator, TValidator>(this IServiceCollection services, string name)
        where TGenerator : class, IImageGenerator where TValidator : class, IValidateOptions<ModelCatalogOptions>
    {
        services.AddImageGenerator<TGenerator>();
        services.AddSingleton<IValidateOptions<ModelCatalogOptions>, TValidator>();
        services.AddRemoteProviderClient(name);
        return services;
    }

    /// <summary>
    /// A named client whose only resilience strategy is the per-request timeout (<see cref="WithTimeout"/>; 30 s unless set).
    /// No retries here: the task engine already retries a transient failure as a new attempt, on the task's record, after the
    /// provider's <c>Retry-After</c> or a backoff, up to <c>Worker:MaxAttempts</c>; retries in the pipeline as well would
    /// multiply the calls (and a paid provider's charges) without showing them there. <see cref="HttpClient.Timeout"/> is off,
    /// since a generation may take minutes: the pipeline's timeout and the worker's <c>TimeoutSeconds</c> bound each call.
    /// </summary>
    public static void AddRemoteProviderClient(this IServiceCollection services, string name) =>
        services.AddHttpClient(name, client => client.Timeout = System.Threading.Timeout.InfiniteTimeSpan)
            .AddResilienceHandler(name, pipeline => pipeline.AddTimeout(new HttpTimeoutStrategyOptions
            {
                TimeoutGenerator = args => ValueTask.FromResult(
                    args.Context.GetRequestMessage()?.Options.TryGetValue(Timeout, out var timeout) == true ? timeout : DefaultTimeout),
            }));

    /// <summary>Sets how long <paramref name="request"/> may take before the pipeline gives up on it.</summary>
    public static HttpRequestMessage WithTimeout(this HttpRequestMessage request, TimeSpan timeout)
    {
        request.Options.Set(Timeout, timeout);
        return request;
    }

    /// <summary>
    /// How long a generation request may take: the model's <c>TimeoutSeconds</c> and a few seconds more, so the worker's own
    /// deadline (which fails the task with <c>provider_timeout</c>) always comes first; the pipeline's is the backstop.
    /// </summary>
    public static TimeSpan GenerationTimeout(ModelDefinition model) => TimeSpan.FromSeconds(model.TimeoutSeconds + 5);

    /// <summary>
    /// The failure an unsuccessful response stands for: 401/403 <c>provider_auth_failed</c> (not retried); 429
    /// <c>provider_rate_limited</c> (transient, after <c>Retry-After</c>, else <paramref name="retryAfter"/>); 408 and 5xx
    /// <c>provider_error</c> (transient); any other status <c>provider_error</c>, not retried (the request itself is wrong,
    /// and would be again).
    /// </summary>
    public static GenerationException Failure(HttpResponseMessage response, ModelDefinition model, string credentialKey, TimeSpan? retryAfter = null)
    {
        var status = (int)response.StatusCode;
        return response.StatusCode switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => AuthFailed(model, credentialKey, status),
            HttpStatusCode.TooManyRequests => new GenerationException(GenerationErrors.ProviderRateLimited,
                $"The model's provider is over its rate limit (HTTP {status}); the task waits and tries again.", transient: true)
            {
                RetryAfter = RetryAfter(response.Headers.RetryAfter) ?? retryAfter,
            },
            HttpStatusCode.RequestTimeout or >= HttpStatusCode.InternalServerError => new GenerationException(GenerationErrors.ProviderError,
                $"The model's provider failed (HTTP {status}); the task tries again.", transient: true),
            _ => new GenerationException(GenerationErrors.ProviderError,
                $"The model's provider rejected the request (HTTP {status}).", transient: false),
        };
    }

    /// <summary>The provider refused the model's credentials: not retried, and the model is switched off until its settings change.</summary>
    public static GenerationException AuthFailed(ModelDefinition model, string credentialKey, int status) =>
        new(GenerationErrors.ProviderAuthFailed,
            $"The model's provider refused its credentials (HTTP {status}); check Models:{model.Id}:{credentialKey}.", transient: false);

    /// <summary>
    /// The failure a request that got no answer stands for, or null for one this run's token canceled (the worker tells
    /// a cancel, a timeout and a shutdown apart itself): the pipeline's timeout, or a connection that failed.
    /// </summary>
    public static GenerationException? Unanswered(Exception exception, CancellationToken cancellationToken) => exception switch
    {
        _ when cancellationToken.IsCancellationRequested => null,
        TimeoutRejectedException => new GenerationException(GenerationErrors.ProviderError,
            "The model's provider did not answer in time; the task tries again.", transient: true, exception),
        HttpRequestException or IOException => new GenerationException(GenerationErrors.ProviderError,
            "The model's provider could not be reached; the task tries again.", transient: true, exception),
        _ => null,
    };

    /// <summary><c>Retry-After</c> as a delay: seconds, or an HTTP date from now; null when absent.</summary>
    public static TimeSpan? RetryAfter(RetryConditionHeaderValue? header) => header switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - DateTimeOffset.UtcNow is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
        _ => null,
    };

    /// <summary>The base URL of <paramref name="model"/>'s requests (its <c>Endpoint</c>, else <paramref name="fallback"/>), ending in a slash.</summary>
    public static Uri BaseAddress(ModelDefinition model, string fallback)
    {
        var endpoint = string.IsNullOrWhiteSpace(model.Endpoint) ? fallback : model.Endpoint.Trim();
        return new Uri(endpoint.EndsWith('/') ? endpoint : endpoint + "/");
    }
}
