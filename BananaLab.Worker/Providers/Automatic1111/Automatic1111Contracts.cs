using System.Text.Json.Serialization;

namespace BananaLab.Worker.Providers.Automatic1111;

// The parts of the Stable Diffusion WebUI API (AUTOMATIC1111, and Forge, which keeps it) that the provider uses, as the
// server's own OpenAPI page (/docs) and modules/api/models.py give them
// (https://github.com/AUTOMATIC1111/stable-diffusion-webui/wiki/API).

/// <summary>
/// The body of <c>POST /sdapi/v1/txt2img</c>, and of <c>/sdapi/v1/img2img</c> with <see cref="InitImages"/> and
/// <see cref="DenoisingStrength"/> set. Sizes in pixels (multiples of 8); <c>cfg_scale</c> is the guidance scale;
/// <c>override_settings.sd_model_checkpoint</c> picks the checkpoint for this request only.
/// </summary>
public sealed record Automatic1111GenerateRequest(
    [property: JsonPropertyName("prompt")] string Prompt,
    [property: JsonPropertyName("negative_prompt")] string NegativePrompt,
    [property: JsonPropertyName("seed")] long Seed,
    [property: JsonPropertyName("steps")] int Steps,
    [property: JsonPropertyName("cfg_scale")] double CfgScale,
    [property: JsonPropertyName("width")] int Width,
    [property: JsonPropertyName("height")] int Height,
    [property: JsonPropertyName("batch_size")] int BatchSize)
{
    [JsonPropertyName("n_iter")] public int Iterations { get; init; } = 1;
    [JsonPropertyName("send_images")] public bool SendImages { get; init; } = true;
    [JsonPropertyName("save_images")] public bool SaveImages { get; init; }

    [JsonPropertyName("override_settings"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, string>? OverrideSettings { get; init; }

    /// <summary>img2img: the reference image, base64.</summary>
    [JsonPropertyName("init_images"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? InitImages { get; init; }

    /// <summary>img2img: how much of the reference to repaint, 0–1 (our reference strength).</summary>
    [JsonPropertyName("denoising_strength"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? DenoisingStrength { get; init; }
}

/// <summary>The answer of txt2img and img2img: the images in base64 (a grid first when the server returns one), and its info JSON.</summary>
public sealed record Automatic1111GenerateResponse(
    [property: JsonPropertyName("images")] IReadOnlyList<string>? Images,
    [property: JsonPropertyName("info")] string? Info);

/// <summary>
/// <c>GET /sdapi/v1/progress</c>: the server's one running job (it is global, not per request): its fraction done,
/// its sampling step of how many, and the latest preview (base64, in the server's samples format) unless skipped.
/// </summary>
public sealed record Automatic1111Progress(
    [property: JsonPropertyName("progress")] double Progress,
    [property: JsonPropertyName("state")] Automatic1111State? State,
    [property: JsonPropertyName("current_image")] string? CurrentImage);

public sealed record Automatic1111State(
    [property: JsonPropertyName("job_count")] int JobCount,
    [property: JsonPropertyName("sampling_step")] int SamplingStep,
    [property: JsonPropertyName("sampling_steps")] int SamplingSteps);
