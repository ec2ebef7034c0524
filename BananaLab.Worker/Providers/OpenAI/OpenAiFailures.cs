using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using BananaLab.Core.Catalog;
using BananaLab.Core.Generation;

namespace BananaLab.Worker.Providers.OpenAI;

/// <summary>
/// Turns what the OpenAI SDK throws into the provider failures every provider shares (<see cref="GenerationErrors"/>), from the
/// status and the error envelope <c>{"error": {"code", "message", "type"}}</c> of
/// https://platform.openai.com/docs/guides/error-codes. Messages are neutral: they name the model's settings, never the key, and
/// carry no part of the provider's body except an error code that reads as one; the provider's own words go only to
/// the moderation record of a refusal, shortened and with the key masked. The SDK's exception is not kept as the inner
/// exception, since its message carries the response body into the logs.
/// </summary>
internal static partial class OpenAiFailures
{
    /// <summary>
    /// The codes of a refusal for content: OpenAI's (<c>content_policy_violation</c> from DALL·E, <c>moderation_blocked</c> from
    /// GPT Image) and those a BananaLab node answers when its moderation refuses the prompt or the images it made.
    /// </summary>
    private static readonly HashSet<string> RefusalCodes =
        new(["content_policy_violation", "moderation_blocked", "output_blocked", "blocked_by_provider"], StringComparer.OrdinalIgnoreCase);

    /// <summary>The longest provider reason kept on a moderation record.</summary>
    private const int MaxReasonLength = 300;

    public static GenerationException From(ClientResultException e, ModelDefinition model, string apiKey)
    {
        var response = e.GetRawResponse();
        if (e.Status == 0 || response is null)
            return Unreachable(model, e.InnerException);
        var (code, message) = ErrorOf(response);
        var status = e.Status;
        if (code is not null && RefusalCodes.Contains(code))
            return new ProviderRefusedException(Reason(code, message, apiKey));
        return status switch
        {
            401 or 403 => new GenerationException(GenerationErrors.ProviderAuthFailed,
                $"The provider refused the credentials of Models:{model.Id} (HTTP {status}); check Models:{model.Id}:ApiKey.", transient: false),
            // Out of quota is a 429 too, but waiting does not end it: fail at once instead of spending the attempts.
            429 when code == "insufficient_quota" => new GenerationException(GenerationErrors.ProviderRateLimited,
                $"The provider's quota for Models:{model.Id} is used up.", transient: false),
            429 => new GenerationException(GenerationErrors.ProviderRateLimited,
                "The provider is rate limiting this installation; the task will be tried again.", transient: true) { RetryAfter = RetryAfter(response) },
            408 or 409 or >= 500 => new GenerationException(GenerationErrors.ProviderError,
                $"The provider answered HTTP {status}{Named(code)}; the task will be tried again.", transient: true) { RetryAfter = RetryAfter(response) },
            _ => new GenerationException(GenerationErrors.ProviderError,
                $"The provider could not take this request (HTTP {status}{Named(code)}).", transient: false),
        };
    }

    /// <summary>The provider could not be reached, or the connection broke: transient.</summary>
    public static GenerationException Unreachable(ModelDefinition model, Exception? inner) =>
        new(GenerationErrors.ProviderError, $"The provider of Models:{model.Id} could not be reached; the task will be tried again.",
            transient: true, inner);

    /// <summary>
    /// How long the response asks us to wait: <c>Retry-After</c> in seconds or as an HTTP date, or OpenAI's
    /// <c>retry-after-ms</c>; null when it asks nothing.
    /// </summary>
    public static TimeSpan? RetryAfter(PipelineResponse response)
    {
        if (response.Headers.TryGetValue("retry-after-ms", out var ms)
            && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds) && milliseconds >= 0)
            return TimeSpan.FromMilliseconds(milliseconds);
        if (!response.Headers.TryGetValue("Retry-After", out var value) || string.IsNullOrWhiteSpace(value)) return null;
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
            return TimeSpan.FromSeconds(seconds);
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            return at > DateTimeOffset.UtcNow ? at - DateTimeOffset.UtcNow : TimeSpan.Zero;
        return null;
    }

    /// <summary>The error envelope's code and message, or nulls when the body is not one.</summary>
    private static (string? Code, string? Message) ErrorOf(PipelineResponse response)
    {
        try
        {
            using var body = JsonDocument.Parse(response.Content);
            if (body.RootElement.ValueKind != JsonValueKind.Object || !body.RootElement.TryGetProperty("error", out var error)
                || error.ValueKind != JsonValueKind.Object) return (null, null);
            return (Text(error, "code") ?? Text(error, "type"), Text(error, "message"));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return (null, null);
        }

        static string? Text(JsonElement error, string name) =>
            error.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }

    /// <summary>What the provider said, for the admins: its code and message, shortened, with the key masked should it be echoed.</summary>
    private static string Reason(string code, string? message, string apiKey)
    {
        var reason = string.IsNullOrWhiteSpace(message) ? code : $"{code}: {message.Trim()}";
        if (apiKey.Length > 0) reason = reason.Replace(apiKey, "***", StringComparison.Ordinal);
        return reason.Length <= MaxReasonLength ? reason : reason[..(MaxReasonLength - 1)] + "…";
    }

    /// <summary>", code" when the provider's code reads as an identifier; nothing for free text.</summary>
    private static string Named(string? code) => code is not null && Identifier().IsMatch(code) ? $", {code}" : "";

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,64}$")]
    private static partial Regex Identifier();
}
