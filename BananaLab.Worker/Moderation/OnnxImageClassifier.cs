using System.ComponentModel.DataAnnotations;
using BananaLab.Core.Moderation;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SkiaSharp;

namespace BananaLab.Worker.Moderation;

/// <summary>An image classifier for moderation, described entirely by configuration (<c>Moderation:ImageClassifier</c>).</summary>
public sealed class ImageClassifierOptions
{
    public const string Section = "Moderation:ImageClassifier";

    /// <summary>The ONNX model (input NCHW float RGB, output one score per label); empty = no classifier.</summary>
    public string? Path { get; set; }

    [Range(8, 1024, ErrorMessage = "Moderation:ImageClassifier:InputWidth must be between 8 and 1024.")]
    public int InputWidth { get; set; } = 224;

    [Range(8, 1024, ErrorMessage = "Moderation:ImageClassifier:InputHeight must be between 8 and 1024.")]
    public int InputHeight { get; set; } = 224;

    /// <summary>Per-channel mean and standard deviation applied to RGB in [0, 1]; empty means 0 and 1.</summary>
    public double[] Mean { get; set; } = [];
    public double[] Std { get; set; } = [];

    internal double[] EffectiveMean => Mean.Length == 0 ? [0, 0, 0] : Mean;
    internal double[] EffectiveStd => Std.Length == 0 ? [1, 1, 1] : Std;

    /// <summary>The output's labels, in order.</summary>
    public List<string> Labels { get; set; } = [];

    /// <summary>A label blocks when its score reaches its threshold; labels without one never block.</summary>
    public Dictionary<string, double> Thresholds { get; set; } = [];

    /// <summary>none (the model outputs probabilities), softmax or sigmoid (it outputs logits).</summary>
    public string Activation { get; set; } = "none";
}

/// <summary>
/// Screens images with the ONNX classifier named in configuration: decode, resize to the input size,
/// normalise, run, and compare each label's score with its threshold. One session, created at start.
/// </summary>
public sealed class OnnxImageClassifier : IImageModerator, IDisposable
{
    private readonly ImageClassifierOptions _options;
    private readonly InferenceSession _session;
    private readonly string _inputName;

    public OnnxImageClassifier(IOptions<ImageClassifierOptions> options)
    {
        _options = options.Value;
        var path = System.IO.Path.GetFullPath(_options.Path!);
        if (!File.Exists(path)) throw new FileNotFoundException($"Moderation:ImageClassifier:Path: {path} does not exist.", path);
        _session = new InferenceSession(path, new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL });
        _inputName = _session.InputMetadata.Keys.First();
        var outputs = _session.OutputMetadata.Values.First().Dimensions;
        if (outputs[^1] > 0 && outputs[^1] != _options.Labels.Count)
            throw new InvalidOperationException(
                $"Moderation:ImageClassifier:Labels lists {_options.Labels.Count} labels but the model outputs {outputs[^1]} scores.");
    }

    public bool IsConfigured => true;

    public ValueTask<ModerationDecision> CheckAsync(ReadOnlyMemory<byte> encodedImage, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        using var decoded = SKBitmap.Decode(encodedImage.Span);
        if (decoded is null)
            return ValueTask.FromResult(new ModerationDecision(false, ["unreadable_image"], ["image:undecodable"], Note: "the image could not be decoded"));

        var (width, height) = (_options.InputWidth, _options.InputHeight);
        using var resized = decoded.Resize(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul),
            new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
        var tensor = new DenseTensor<float>([1, 3, height, width]);
        var (mean, std) = (_options.EffectiveMean, _options.EffectiveStd);
        var pixels = resized.GetPixelSpan();
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var i = (y * width + x) * 4;
                for (var c = 0; c < 3; c++)
                    tensor[0, c, y, x] = (float)((pixels[i + c] / 255.0 - mean[c]) / std[c]);
            }

        using var results = _session.Run([NamedOnnxValue.CreateFromTensor(_inputName, tensor)]);
        var scores = Activate(results[0].AsEnumerable<float>().ToArray());
        var findings = new List<string>();
        var categories = new List<string>();
        var summary = new List<string>();
        for (var i = 0; i < Math.Min(scores.Length, _options.Labels.Count); i++)
        {
            var label = _options.Labels[i];
            summary.Add($"{label}={scores[i]:F3}");
            if (_options.Thresholds.TryGetValue(label, out var threshold) && scores[i] >= threshold)
            {
                categories.Add(label);
                findings.Add($"image:{label}>={threshold:F2}");
            }
        }
        var latency = (long)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        return ValueTask.FromResult(new ModerationDecision(categories.Count == 0, categories, findings,
            Note: "scores " + string.Join(' ', summary), LatencyMicroseconds: latency));
    }

    private float[] Activate(float[] raw) => _options.Activation.ToLowerInvariant() switch
    {
        "softmax" => Softmax(raw),
        "sigmoid" => raw.Select(v => 1f / (1f + MathF.Exp(-v))).ToArray(),
        _ => raw,
    };

    private static float[] Softmax(float[] logits)
    {
        var max = logits.Max();
        var exp = logits.Select(v => MathF.Exp(v - max)).ToArray();
        var sum = exp.Sum();
        return exp.Select(v => v / sum).ToArray();
    }

    public void Dispose() => _session.Dispose();
}
