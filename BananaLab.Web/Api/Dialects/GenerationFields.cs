using System.Text.Json;
using BananaLab.Core.Tasks;
using BananaLab.Web.Api.Errors;

namespace BananaLab.Web.Api.Dialects;

/// <summary>
/// The snake_case generation fields the dialects share (Banana modelInputs, the session interface,
/// fastDeploy items, BentoML /generate): prompt, negative_prompt, size, width, height, aspect_ratio,
/// num_images, seed, num_inference_steps, guidance_scale, reference_image (base64), strength, output_format, webhook_url.
/// Values arrive as clients send them: a whole number may be written <c>4.0</c> (Python's <c>json.dumps</c> of a float), a
/// boolean <c>"true"</c>/<c>"false"</c> or <c>1</c>/<c>0</c>, and <c>negativePrompt</c> is the camelCase spelling of
/// <c>negative_prompt</c>. A field that is none of these (nor one the dialect names) is refused, never silently ignored.
/// A field of the wrong type throws an <see cref="ApiErrorException"/> (<c>invalid_request</c>, naming the field as sent),
/// which the endpoint answers in its own envelope; the engine validates the values.
/// </summary>
public static class GenerationFields
{
    /// <summary>The generation fields every dialect takes, as sent (both spellings of the negative prompt).</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "model", "prompt", "negative_prompt", "negativePrompt", "size", "aspect_ratio", "width", "height", "num_images",
        "num_images_per_prompt", "seed", "num_inference_steps", "guidance_scale", "reference_image", "image", "strength",
        "output_format", "webhook_url",
    ];

    /// <summary>
    /// The generation request in <paramref name="fields"/>, or why it cannot be made: a field of the wrong type, both spellings
    /// of the negative prompt, or a field that is neither a generation field (<see cref="Names"/>) nor one of <paramref name="alsoTaken"/>
    /// (the dialect's own members of the same object, such as the session interface's <c>wait_for_result</c>).
    /// </summary>
    public static Outcome<SubmitTaskRequest> Parse(JsonElement fields, string? modelId, string source, params string[] alsoTaken)
    {
        if (fields.ValueKind != JsonValueKind.Object) return Invalid("The generation inputs must be a JSON object.");
        if (Unknown(fields, [.. Names, .. alsoTaken]) is { } unknown) return unknown;
        try
        {
            if (Get(fields, "negative_prompt") is not null && Get(fields, "negativePrompt") is not null)
                return TaskErrors.InvalidRequest("Send the negative prompt once, as 'negative_prompt' or 'negativePrompt', not both.", "negativePrompt");
            ReferenceImageUpload? reference = null;
            if ((String(fields, "reference_image") ?? String(fields, "image")) is { } encoded)
            {
                if (!RequestBodies.TryDecodeBase64(encoded, out var bytes))
                    return TaskErrors.ReferenceImageUnreadable("reference_image is not valid base64.");
                reference = new ReferenceImageUpload(bytes);
            }
            return new SubmitTaskRequest
            {
                ModelId = String(fields, "model") ?? modelId,
                Prompt = String(fields, "prompt"),
                NegativePrompt = String(fields, "negative_prompt") ?? String(fields, "negativePrompt"),
                Size = String(fields, "size"),
                AspectRatio = String(fields, "aspect_ratio"),
                Width = Int(fields, "width"),
                Height = Int(fields, "height"),
                ImageCount = Int(fields, "num_images") ?? Int(fields, "num_images_per_prompt"),
                Seed = Long(fields, "seed"),
                Steps = Int(fields, "num_inference_steps"),
                Guidance = Double(fields, "guidance_scale"),
                OutputFormat = String(fields, "output_format"),
                ReferenceImage = reference,
                ReferenceStrength = Double(fields, "strength"),
                WebhookUrl = String(fields, "webhook_url"),
                Source = source,
            };
        }
        catch (ApiErrorException e)
        {
            return e.Error;
        }
    }

    public static string? String(JsonElement obj, string name) => Get(obj, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } value => value.GetString(),
        _ => throw WrongType(name, "a string"),
    };

    /// <summary>A boolean as the seed documents' clients send one: <c>true</c>/<c>false</c>, <c>"true"</c>/<c>"false"</c> (any case) or <c>1</c>/<c>0</c>.</summary>
    public static bool? Bool(JsonElement obj, string name) => Get(obj, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        { ValueKind: JsonValueKind.String } value when bool.TryParse(value.GetString(), out var b) => b,
        { ValueKind: JsonValueKind.Number } value when value.TryGetDouble(out var d) && d is 0 or 1 => d == 1,
        _ => throw WrongType(name, "true or false"),
    };

    /// <summary>A whole number that fits an <see cref="int"/>, written <c>4</c> or <c>4.0</c>.</summary>
    public static int? Int(JsonElement obj, string name) =>
        Long(obj, name) is { } value ? value is >= int.MinValue and <= int.MaxValue ? (int)value : throw WrongType(name, "a whole number") : null;

    /// <summary>A whole number, written <c>4</c> or <c>4.0</c> (or <c>4e0</c>); <c>4.5</c> is a type error.</summary>
    public static long? Long(JsonElement obj, string name) => Get(obj, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } value when value.TryGetInt64(out var i) => i,
        { ValueKind: JsonValueKind.Number } value when value.TryGetDouble(out var d) && double.IsFinite(d) && d == Math.Floor(d)
            && Math.Abs(d) < 9e18 => (long)d,
        _ => throw WrongType(name, "a whole number"),
    };

    /// <summary>Why an object holds a member that is not in <paramref name="taken"/> (the first such, named in the error's field), or null.</summary>
    public static TaskError? Unknown(JsonElement obj, IReadOnlyCollection<string> taken)
    {
        if (obj.ValueKind != JsonValueKind.Object) return null;
        foreach (var property in obj.EnumerateObject())
            if (!taken.Contains(property.Name, StringComparer.Ordinal))
                return TaskErrors.InvalidRequest(
                    $"'{property.Name}' is not a field this endpoint takes; it takes {string.Join(", ", taken.Select(t => $"'{t}'"))}.", property.Name);
        return null;
    }

    private static double? Double(JsonElement obj, string name) => Get(obj, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } value => value.GetDouble(),
        _ => throw WrongType(name, "a number"),
    };

    private static JsonElement? Get(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static TaskError Invalid(string message) => TaskErrors.InvalidRequest(message);

    /// <summary>The error for a field <paramref name="name"/> that holds something other than <paramref name="expected"/>.</summary>
    public static ApiErrorException WrongType(string name, string expected) =>
        new(TaskErrors.InvalidRequest($"'{name}' must be {expected}.", name));
}
