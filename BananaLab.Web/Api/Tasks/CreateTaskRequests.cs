using System.Globalization;
using System.Text.Json;
using BananaLab.Core.Tasks;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace BananaLab.Web.Api.Tasks;

/// <summary>Turns a create-task body (JSON or multipart/form-data) into the engine's request.</summary>
public static class CreateTaskRequests
{
    public static async Task<Outcome<SubmitTaskRequest>> ParseAsync(HttpRequest request, byte[] body, CancellationToken cancellationToken)
    {
        if (request.HasFormContentType)
        {
            request.Body = new MemoryStream(body);
            IFormCollection form;
            try
            {
                form = await request.ReadFormAsync(cancellationToken);
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                // A boundary that never appears or a part cut short ends the stream early (IOException).
                return Invalid($"The multipart body could not be read: {e.Message}");
            }
            return FromForm(form);
        }

        CreateTaskBody? json;
        try
        {
            var options = request.HttpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
            if (UnknownField<CreateTaskBody>(body) is { } unknown) return unknown;
            json = JsonSerializer.Deserialize<CreateTaskBody>(body, options);
        }
        catch (JsonException e)
        {
            return Invalid($"The request body is not valid JSON for this endpoint: {e.Message}");
        }
        if (json is null) return Invalid("The request body is empty; send a JSON object.");
        return FromJson(json);
    }

    public static Outcome<SubmitTaskRequest> FromJson(CreateTaskBody body)
    {
        ReferenceImageUpload? reference = null;
        if (body.ReferenceImage is not null)
        {
            if (!RequestBodies.TryDecodeBase64(body.ReferenceImage, out var bytes))
                return TaskErrors.ReferenceImageUnreadable("the referenceImage field is not valid base64.");
            reference = new ReferenceImageUpload(bytes);
        }
        ReferenceImageUpload? mask = null;
        if (body.MaskImage is not null)
        {
            if (!RequestBodies.TryDecodeBase64(body.MaskImage, out var bytes)) return TaskErrors.InvalidMask("The maskImage field is not valid base64.");
            mask = new ReferenceImageUpload(bytes);
        }
        return new SubmitTaskRequest
        {
            ModelId = body.Model, Prompt = body.Prompt, NegativePrompt = body.NegativePrompt, Size = body.Size,
            AspectRatio = body.AspectRatio, Width = body.Width, Height = body.Height, ImageCount = body.Count,
            Seed = body.Seed, Steps = body.Steps, Guidance = body.Guidance, OutputFormat = body.OutputFormat,
            ReferenceImage = reference, ReferenceStrength = body.ReferenceStrength, ReferenceFit = body.ReferenceFit, WebhookUrl = body.WebhookUrl,
            MaskImage = mask,
        };
    }

    /// <summary>
    /// Why a JSON object body has a member that is not a property of <typeparamref name="TBody"/> (camelCase, any case, as the
    /// API's JSON options read them), naming it, or null: an unknown field is refused rather than silently ignored.
    /// </summary>
    public static TaskError? UnknownField<TBody>(byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        if (document.RootElement.ValueKind != JsonValueKind.Object) return null;
        var fields = FieldsOf<TBody>();
        var unknown = document.RootElement.EnumerateObject().Select(p => p.Name).FirstOrDefault(name => !fields.Contains(name, StringComparer.OrdinalIgnoreCase));
        return unknown is null ? null : NotAField(unknown, fields);
    }

    private static string[] FieldsOf<TBody>() => typeof(TBody).GetProperties().Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name)).ToArray();

    private static TaskError NotAField(string name, string[] fields) =>
        TaskErrors.InvalidRequest($"'{name}' is not a field this endpoint takes; it takes {string.Join(", ", fields.Select(f => $"'{f}'"))}.", name);

    private static Outcome<SubmitTaskRequest> FromForm(IFormCollection form)
    {
        var fields = FieldsOf<CreateTaskBody>();
        if (form.Keys.Concat(form.Files.Select(f => f.Name)).FirstOrDefault(name => !fields.Contains(name, StringComparer.OrdinalIgnoreCase)) is { } unknown)
            return NotAField(unknown, fields);
        string? Text(string name) => form.TryGetValue(name, out var value) ? value.ToString() : null;
        var error = (TaskError?)null;
        int? Int(string name) => Number<int>(name, s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : (int?)null);
        long? Long(string name) => Number<long>(name, s => long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : (long?)null);
        double? Double(string name) => Number<double>(name, s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null);
        T? Number<T>(string name, Func<string, T?> parse) where T : struct
        {
            var text = Text(name);
            if (string.IsNullOrWhiteSpace(text)) return null;
            var value = parse(text.Trim());
            if (value is null) error ??= TaskErrors.InvalidRequest($"The field '{name}' must be a number.", name);
            return value;
        }

        ReferenceImageUpload? reference = null;
        if (form.Files.GetFile("referenceImage") is { } file)
        {
            using var stream = new MemoryStream();
            file.CopyTo(stream);
            reference = new ReferenceImageUpload(stream.ToArray(), file.FileName);
        }
        ReferenceImageUpload? mask = null;
        if (form.Files.GetFile("maskImage") is { } maskFile)
        {
            using var stream = new MemoryStream();
            maskFile.CopyTo(stream);
            mask = new ReferenceImageUpload(stream.ToArray(), maskFile.FileName);
        }
        var request = new SubmitTaskRequest
        {
            ModelId = Text("model"), Prompt = Text("prompt"), NegativePrompt = Text("negativePrompt"), Size = Text("size"),
            AspectRatio = Text("aspectRatio"), Width = Int("width"), Height = Int("height"), ImageCount = Int("count"),
            Seed = Long("seed"), Steps = Int("steps"), Guidance = Double("guidance"), OutputFormat = Text("outputFormat"),
            ReferenceImage = reference, ReferenceStrength = Double("referenceStrength"), ReferenceFit = Text("referenceFit"), WebhookUrl = Text("webhookUrl"),
            MaskImage = mask,
        };
        return error is null ? request : error;
    }

    private static TaskError Invalid(string message) => TaskErrors.InvalidRequest(message);
}
