using System.Text.Json;
using System.Text.Json.Serialization;

namespace BananaLab.Worker.Inference.Imaging;

/// <summary>
/// A model's own latent-to-RGB map ("latent2rgb"): per latent pixel, <c>rgb = Matrix · latent + Bias</c>,
/// where <c>latent</c> is one pixel of the sampler's latents (VAE latent × scaling factor, as the
/// denoising loop holds them) and <c>rgb</c> is in [0, 1]. <see cref="Matrix"/> is 3 rows (R, G, B)
/// × latent-channel columns; <see cref="Bias"/> has 3 entries. Fitted by least squares against the
/// model's VAE decoder output area-averaged to latent resolution (<c>tools/preview-fit</c>) and stored
/// with the model as <c>preview/latent_rgb.json</c>; <see cref="Source"/> records how.
/// </summary>
public sealed record LatentRgbMap(
    [property: JsonPropertyName("matrix")] float[][] Matrix,
    [property: JsonPropertyName("bias")] float[] Bias,
    [property: JsonPropertyName("source")] LatentRgbFitSource? Source = null)
{
    /// <summary>Where a model keeps its map, relative to the model folder.</summary>
    public const string RelativePath = "preview/latent_rgb.json";

    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    [JsonIgnore]
    public int Channels => Matrix.Length == 0 ? 0 : Matrix[0].Length;

    /// <summary>Null when the shape is usable for <paramref name="latentChannels"/>, else what is wrong with it.</summary>
    public string? Problem(int latentChannels)
    {
        if (Matrix is not { Length: 3 } || Matrix.Any(row => row is null || row.Length != latentChannels))
            return $"\"matrix\" must be 3 rows of {latentChannels} numbers (one per latent channel)";
        if (Bias is not { Length: 3 }) return "\"bias\" must be 3 numbers (R, G, B)";
        if (Matrix.SelectMany(r => r).Concat(Bias).Any(v => !float.IsFinite(v))) return "every coefficient must be a finite number";
        return null;
    }
}

/// <summary>How a <see cref="LatentRgbMap"/> was fitted, so anyone can rerun it and compare.</summary>
/// <param name="Tool">The command that produced the file.</param>
/// <param name="DateUtc">ISO 8601 date of the fit.</param>
/// <param name="Latents">Latent images fitted on (each contributes height × width latent pixels).</param>
/// <param name="Pixels">Latent pixels (rows of the least-squares system).</param>
/// <param name="HoldoutLatents">Latent images kept out of the fit and used only for the error figures.</param>
/// <param name="FitRmse">Root-mean-square error on the fit set, RGB in [0, 1], at latent resolution.</param>
/// <param name="FitMad255">Mean absolute error on the fit set, 0–255 per channel, at latent resolution.</param>
/// <param name="HoldoutMad255">Mean absolute error on the held-out set, 0–255 per channel, at latent resolution.</param>
/// <param name="Method">How latents and targets were made.</param>
public sealed record LatentRgbFitSource(
    [property: JsonPropertyName("tool")] string Tool,
    [property: JsonPropertyName("date_utc")] string DateUtc,
    [property: JsonPropertyName("latents")] int Latents,
    [property: JsonPropertyName("pixels")] int Pixels,
    [property: JsonPropertyName("holdout_latents")] int HoldoutLatents,
    [property: JsonPropertyName("fit_rmse")] double FitRmse,
    [property: JsonPropertyName("fit_mad_255")] double FitMad255,
    [property: JsonPropertyName("holdout_mad_255")] double HoldoutMad255,
    [property: JsonPropertyName("method")] string Method);
