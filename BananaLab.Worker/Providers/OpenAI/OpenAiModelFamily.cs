using BananaLab.Core.Catalog;

namespace BananaLab.Worker.Providers.OpenAI;

/// <summary>
/// What a remote model of the <c>openai</c> provider takes, by its <c>RemoteModel</c> name and <c>Endpoint</c>, as the OpenAI
/// Images API reference states it (https://platform.openai.com/docs/api-reference/images/create and /createEdit):
/// <list type="bullet">
/// <item>GPT Image (<c>gpt-image-1</c>, <c>gpt-image-1-mini</c>, newer <c>gpt-image-*</c>, and any other name on OpenAI's own
/// endpoint): 1024x1024, 1536x1024, 1024x1536; <c>n</c> 1–10; edits; always answers base64 and refuses <c>response_format</c>;
/// takes <c>output_format</c> png, jpeg or webp.</item>
/// <item><c>dall-e-3</c>: 1024x1024, 1792x1024, 1024x1792; <c>n</c> = 1; no edits; <c>response_format</c> b64_json; no <c>output_format</c>.</item>
/// <item><c>dall-e-2</c>: squares (1024x1024 asked); <c>n</c> 1–10; <c>response_format</c> b64_json; its edits repaint only the
/// transparent part of an image, or a mask, so a plain reference image is not offered.</item>
/// <item>Any other name on another <c>Endpoint</c> (another BananaLab node, LocalAI, a proxy): an OpenAI-compatible server that
/// takes any <c>WIDTHxHEIGHT</c> (BananaLab's dialect: 64–4096), so the task's exact size is asked and the finishing step has
/// nothing to resample; <c>n</c> 1–10, edits, <c>response_format</c> b64_json (such servers answer links by default) and
/// <c>output_format</c>. A server that makes only fixed sizes is given one with <c>NativeWidth</c>/<c>NativeHeight</c>.</item>
/// </list>
/// A catalog entry's <c>NativeWidth</c> × <c>NativeHeight</c>, when set, is the size asked of any family.
/// </summary>
internal sealed record OpenAiModelFamily(
    string Name,
    IReadOnlyList<(int Width, int Height)> Sizes,
    int MaxBatch,
    bool TakesEdits,
    bool AsksBase64,
    bool TakesOutputFormat)
{
    /// <summary>OpenAI's public endpoint, the SDK's default.</summary>
    public const string PublicHost = "api.openai.com";

    public static readonly OpenAiModelFamily GptImage = new("GPT Image", [(1024, 1024), (1536, 1024), (1024, 1536)], 10,
        TakesEdits: true, AsksBase64: false, TakesOutputFormat: true);

    public static readonly OpenAiModelFamily DallE3 = new("dall-e-3", [(1024, 1024), (1792, 1024), (1024, 1792)], 1,
        TakesEdits: false, AsksBase64: true, TakesOutputFormat: false);

    public static readonly OpenAiModelFamily DallE2 = new("dall-e-2", [(1024, 1024)], 10,
        TakesEdits: false, AsksBase64: true, TakesOutputFormat: false);

    /// <summary>An OpenAI-compatible server of any size (no fixed list: the task's own size is asked).</summary>
    public static readonly OpenAiModelFamily Compatible = new("OpenAI-compatible", [], 10,
        TakesEdits: true, AsksBase64: true, TakesOutputFormat: true);

    public static OpenAiModelFamily Of(ModelDefinition model)
    {
        var name = model.RemoteModel?.Trim().ToLowerInvariant() ?? "";
        if (name == "dall-e-3") return DallE3;
        if (name == "dall-e-2") return DallE2;
        if (name.StartsWith("gpt-image", StringComparison.Ordinal) || name.StartsWith("chatgpt-image", StringComparison.Ordinal)) return GptImage;
        return IsOpenAiEndpoint(model) ? GptImage : Compatible;
    }

    /// <summary>Whether the model is served by OpenAI itself: no <c>Endpoint</c>, or one on <c>api.openai.com</c>.</summary>
    public static bool IsOpenAiEndpoint(ModelDefinition model) =>
        string.IsNullOrWhiteSpace(model.Endpoint)
        || Uri.TryCreate(model.Endpoint, UriKind.Absolute, out var endpoint) && string.Equals(endpoint.Host, PublicHost, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The size to ask for a task of <paramref name="width"/> × <paramref name="height"/>: the catalog's native size when set;
    /// else the family's size nearest in aspect ratio (the finishing step crops and scales it to the exact size); else, for a
    /// compatible server, the exact size.
    /// </summary>
    public (int Width, int Height) SizeFor(ModelDefinition model, int width, int height)
    {
        if (model.NativeWidth > 0 && model.NativeHeight > 0) return (model.NativeWidth, model.NativeHeight);
        if (Sizes.Count == 0) return (width, height);
        var wanted = Math.Log((double)width / height);
        return Sizes.OrderBy(s => Math.Abs(Math.Log((double)s.Width / s.Height) - wanted)).ThenByDescending(s => s.Width * s.Height).First();
    }
}
