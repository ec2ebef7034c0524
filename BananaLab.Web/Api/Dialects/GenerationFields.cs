using System.Text.Json;
using BananaLab.Core.Tasks;
using BananaLab.Web.Api.Errors;

namespace BananaLab.Web.Api.Dialects;

/// <summary>
/// The snake_case generation fields the dialects share (Banana modelInputs, the session interface,
/// fastDeploy items, BentoML /generate): prompt, negative_prompt, size, width, height, aspect_ratio,
/// num_images, seed, num_inference_steps, guidance_scale, reference_image (base64), strength, output_format, webhook_url.
/// A field of the wrong type throws an <see cref="ApiErrorException"/> (<c>invalid_request</c>, naming the field as sent),
/// which the endpoint answers in its own envelope; the engine validates the values.
/// </summary>
public static class GenerationFields
{
    public static Outcome<SubmitTaskRequest> Parse(JsonElement fields, string? modelId, string source)
    {
        if (fields.ValueKind != JsonValueKind.Object) return Invalid("The generation inputs must be a JSON object.");
        try
        {
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
                NegativePrompt = String(fields, "negative_prompt"),
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

    public static bool? Bool(JsonElement obj, string name) => Get(obj, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        _ => throw WrongType(name, "true or false"),
    };

    private static int? Int(JsonElement obj, string name) => Get(obj, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } value when value.TryGetInt32(out var i) => i,
        _ => throw WrongType(name, "a whole number"),
    };

    private static long? Long(JsonElement obj, string name) => Get(obj, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } value when value.TryGetInt64(out var i) => i,
        _ => throw WrongType(name, "a whole number"),
    };

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
