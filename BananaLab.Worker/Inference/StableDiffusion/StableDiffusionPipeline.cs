using BananaLab.Core.Generation;
using BananaLab.Core.Images;
using BananaLab.Worker.Inference.Imaging;
using BananaLab.Worker.Inference.Runtime;
using BananaLab.Worker.Inference.Schedulers;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SkiaSharp;

namespace BananaLab.Worker.Inference.StableDiffusion;

/// <summary>
/// Text-to-image and image-to-image with classifier-free guidance over a <see cref="StableDiffusionModel"/>: denoise
/// at the model's native size, then decode each image and hand it to the worker's finishing step
/// (<see cref="IGenerationOutput.Finish"/>), which frames, enlarges and encodes it. Progress: each denoising step here,
/// then per image the finishing step's upscaling (which includes the decode) and encoding phases.
/// </summary>
public sealed class StableDiffusionPipeline(StableDiffusionModelCache models, ILogger logger)
{
    public GenerationResult Generate(GenerationRequest request, IGenerationProgress progress, IGenerationOutput output,
        CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var model = models.Get(request.Model);
        var latents = Denoise(model, request, progress, cancellationToken);

        var images = new List<GeneratedImage>(request.ImageCount);
        for (var i = 0; i < request.ImageCount; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var image = i;
            images.Add(output.Finish(i, () => Decode(model, latents, image), cancellationToken));
        }
        return new GenerationResult(images);
    }

    /// <summary>
    /// The denoised latents of all images, in the stages of a diffusers pipeline: prepare latents, encode the prompts, then
    /// per step one batched UNet call for every row (<see cref="NoisePredictor"/>, its buffers allocated once), the guidance
    /// step and the scheduler step.
    /// </summary>
    internal LatentBatch Denoise(StableDiffusionModel model, GenerationRequest request, IGenerationProgress? progress,
        CancellationToken cancellationToken)
    {
        var scheduler = SchedulerFactory.Create(model.Scheduler, request.Model.Scheduler, Math.Max(1, request.Steps));
        var guided = request.Guidance > 1.0;
        var unet = new UnetPorts(model.Unet);
        var (latents, start, randoms, known) = PrepareLatents(model, request, scheduler, unet.Sample);
        var total = scheduler.Steps - start;
        if (total == 0) return latents;
        var inpainting = request.MaskImagePath is { } maskPath && known is not null
            ? new LatentInpainting(known, InpaintMask.Weights(maskPath, latents.Width, latents.Height, request.ReferenceFit))
            : null;

        var context = EncodePrompts(model, request, unet.Context, guided, cancellationToken);
        using var predictor = new NoisePredictor(model.Unet, unet, latents, context, cancellationToken);
        var fresh = new float[latents.ImageSize];
        for (var step = start; step < scheduler.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var prediction = predictor.Predict(latents, scheduler.Timesteps[step], scheduler.ModelInputScale(step));
            if (guided) GuidanceStep(prediction, latents.Count, latents.ImageSize, (float)request.Guidance);
            SchedulerStep(latents, prediction, guided, scheduler.Coefficients(step), randoms, fresh);
            inpainting?.KeepUnmasked(latents, step + 1 < scheduler.Steps ? scheduler.NoiseLevel(step + 1) : (1.0, 0.0));
            progress?.Report(new GenerationProgress(step - start + 1, total,
                LatentPreview.Render(latents.Image(0), latents.Channels, latents.Height, latents.Width, model.PreviewMap, model.DownsampleFactor)));
        }
        return latents;
    }

    /// <summary>
    /// The starting latents and the first step to run: seeded noise (image i from seed + i) times the scheduler's initial
    /// sigma; for image-to-image, the reference's latent noised to the first step its strength keeps (diffusers
    /// get_timesteps), the steps before it skipped. Returns each image's random source, which later steps draw from too,
    /// and for image-to-image the reference's clean latent with each image's starting noise (what inpainting keeps).
    /// </summary>
    private static (LatentBatch Latents, int Start, NoiseRandom[] Randoms, KnownLatents? Known) PrepareLatents(StableDiffusionModel model, GenerationRequest request,
        DiffusionScheduler scheduler, OnnxPort sampleIn)
    {
        var count = request.ImageCount;
        var (channels, height, width) = LatentShape(model, request, sampleIn);
        var latents = new LatentBatch(count, channels, height, width);
        var randoms = Enumerable.Range(0, count).Select(i => new NoiseRandom(request.Seed + i)).ToArray();
        if (request.ReferenceImagePath is null)
        {
            var sigma = (float)scheduler.InitNoiseSigma;
            for (var i = 0; i < count; i++)
            {
                var image = latents.Image(i);
                randoms[i].FillGaussian(image);
                for (var k = 0; k < image.Length; k++) image[k] *= sigma;
            }
            return (latents, 0, randoms, null);
        }

        var reference = EncodeReference(model, request.ReferenceImagePath, request.ReferenceFit, channels, height, width);
        var strength = Math.Clamp(request.ReferenceStrength, 0, 1);
        var kept = Math.Min((int)(scheduler.Steps * strength), scheduler.Steps);
        var start = scheduler.Steps - kept;
        var (signal, noiseLevel) = start < scheduler.Steps ? scheduler.NoiseLevel(start) : (1.0, 0.0);
        var noises = new float[count][];
        for (var i = 0; i < count; i++)
        {
            var image = latents.Image(i);
            randoms[i].FillGaussian(image);
            noises[i] = request.MaskImagePath is null ? [] : image.ToArray();
            for (var k = 0; k < image.Length; k++) image[k] = (float)(signal * reference[k] + noiseLevel * image[k]);
        }
        return (latents, start, randoms, new KnownLatents(reference, noises));
    }

    /// <summary>
    /// Classifier-free guidance: the noise of each image's conditional row becomes uncond + guidance · (cond − uncond),
    /// in place. <paramref name="prediction"/> holds the rows [uncond × N; cond × N].
    /// </summary>
    private static void GuidanceStep(float[] prediction, int count, int latentSize, float guidance)
    {
        for (var i = 0; i < count; i++)
        {
            var unconditioned = prediction.AsSpan(i * latentSize, latentSize);
            var conditioned = prediction.AsSpan((count + i) * latentSize, latentSize);
            for (var k = 0; k < latentSize; k++) conditioned[k] = unconditioned[k] + guidance * (conditioned[k] - unconditioned[k]);
        }
    }

    /// <summary>
    /// The scheduler's step, x = Sample·x + Model·noise + Noise·z, with this step's coefficients; z is fresh noise from each
    /// image's own random source, drawn only by schedulers that add noise (ancestral, LCM).
    /// </summary>
    private static void SchedulerStep(LatentBatch latents, float[] prediction, bool guided, StepCoefficients coefficients,
        NoiseRandom[] randoms, float[] fresh)
    {
        var (count, latentSize) = (latents.Count, latents.ImageSize);
        float a = (float)coefficients.Sample, b = (float)coefficients.Model, c = (float)coefficients.Noise;
        for (var i = 0; i < count; i++)
        {
            var x = latents.Image(i);
            var noise = prediction.AsSpan((guided ? count + i : i) * latentSize, latentSize);
            if (coefficients.Noise != 0) randoms[i].FillGaussian(fresh);
            for (var k = 0; k < latentSize; k++) x[k] = a * x[k] + b * noise[k] + (c != 0 ? c * fresh[k] : 0);
        }
    }

    private static (int Channels, int Height, int Width) LatentShape(StableDiffusionModel model, GenerationRequest request, OnnxPort sampleIn)
    {
        var factor = model.DownsampleFactor;
        var nativeWidth = request.Model.NativeWidth > 0 ? request.Model.NativeWidth : (model.UnetSampleSize ?? 64) * factor;
        var nativeHeight = request.Model.NativeHeight > 0 ? request.Model.NativeHeight : (model.UnetSampleSize ?? 64) * factor;
        // A graph with fixed spatial axes decides; the catalog's native size is used where they are open.
        var channels = sampleIn.Size(1, model.LatentChannels);
        var height = sampleIn.Size(2, Math.Max(1, nativeHeight / factor));
        var width = sampleIn.Size(3, Math.Max(1, nativeWidth / factor));
        return (channels, height, width);
    }

    /// <summary>
    /// Text-encoder states for [uncond × N; cond × N]. Prompts over 75 tokens are encoded in 77-token
    /// chunks and concatenated along the sequence axis when the UNet accepts a longer context. Submission
    /// refuses a prompt longer than a fixed context (<see cref="StableDiffusionModel.PromptTokenLimit"/>);
    /// a task queued before that check gets the first chunks and a log line.
    /// </summary>
    private TextContext EncodePrompts(StableDiffusionModel model, GenerationRequest request, OnnxPort contextIn, bool guided,
        CancellationToken cancellationToken)
    {
        var tokenizer = model.Tokenizer;
        var conditioned = tokenizer.EncodeChunks(request.Prompt).ToList();
        var unconditioned = tokenizer.EncodeChunks(request.NegativePrompt ?? "").ToList();
        var chunks = guided ? Math.Max(conditioned.Count, unconditioned.Count) : conditioned.Count;
        var maxChunks = contextIn.IsDynamic(1) ? int.MaxValue : Math.Max(1, contextIn.Dimensions[1] / tokenizer.MaxLength);
        if (chunks > maxChunks)
        {
            logger.LogInformation("Prompt of {Chunks} chunks cut to {Max}: {Path} takes a fixed {Length}-token context",
                chunks, maxChunks, model.Unet.DisplayPath, contextIn.Dimensions[1]);
            chunks = maxChunks;
        }
        while (conditioned.Count < chunks) conditioned.Add(tokenizer.EncodeForModel(""));
        for (var i = unconditioned.Count; i < chunks; i++) unconditioned.Add(unconditioned[i % unconditioned.Count]);

        // One text-encoder call for [uncond chunks; cond chunks] where the batch axis allows it.
        var all = (guided ? unconditioned.Take(chunks) : []).Concat(conditioned.Take(chunks)).ToList();
        var states = EncodeChunks(model, all, cancellationToken);
        var half = guided ? states.Length / 2 : 0;
        var cond = guided ? states[half..] : states;
        var uncond = guided ? states[..half] : null;
        return new TextContext(cond, uncond, request.ImageCount, chunks * tokenizer.MaxLength);
    }

    private static float[] EncodeChunks(StableDiffusionModel model, List<long[]> chunks, CancellationToken cancellationToken)
    {
        var encoder = model.TextEncoder;
        var idsIn = encoder.Input(0, "input_ids");
        var statesOut = encoder.Output(0, "last_hidden_state");
        var perCall = idsIn.IsDynamic(0) ? chunks.Count : Math.Max(1, idsIn.Dimensions[0]);
        var length = chunks[0].Length;
        var states = new List<float>();
        for (var first = 0; first < chunks.Count; first += perCall)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // A short last group of a fixed batch repeats its last chunk; only real rows are kept.
            var rows = Enumerable.Range(first, perCall).Select(i => chunks[Math.Min(i, chunks.Count - 1)]).ToList();
            var ids = rows.SelectMany(r => r).ToArray();
            using var idsValue = idsIn.ElementType == TensorElementType.Int32
                ? OrtValue.CreateTensorValueFromMemory(ids.Select(id => (int)id).ToArray(), [perCall, length])
                : OrtValue.CreateTensorValueFromMemory(ids, [perCall, length]);
            using var runOptions = new RunOptions();
            using var results = encoder.Session.Run(runOptions, [idsIn.Name], [idsValue], [statesOut.Name]);
            var values = ReadFloats(results[0]);
            var keep = Math.Min(perCall, chunks.Count - first);
            states.AddRange(values.Take(values.Length / perCall * keep));
        }
        return states.ToArray();
    }

    private static float[] ReadFloats(OrtValue value) =>
        value.GetTensorTypeAndShape().ElementDataType == TensorElementType.Float16
            ? value.GetTensorDataAsSpan<Float16>().ToArray().Select(h => (float)(Half)BitConverter.UInt16BitsToHalf(h.value)).ToArray()
            : value.GetTensorDataAsSpan<float>().ToArray();

    private static ProducedImage.Pixels Decode(StableDiffusionModel model, LatentBatch latents, int index)
    {
        var decoder = model.VaeDecoder;
        var latentIn = decoder.Input(0, "latent_sample");
        var imageOut = decoder.Output(0, "sample");
        var (c, h, w) = (latents.Channels, latents.Height, latents.Width);
        var latent = latents.Image(index);
        var outH = imageOut.Size(2, h * model.DownsampleFactor);
        var outW = imageOut.Size(3, w * model.DownsampleFactor);
        using var input = new TensorBuffer(latentIn.ElementType, 1, c, h, w);
        using var image = new TensorBuffer(imageOut.ElementType, 1, 3, outH, outW);
        var scale = (float)(1 / model.ScalingFactor);
        for (var k = 0; k < latent.Length; k++) input.Data[k] = latent[k] * scale;
        input.Upload();
        using var runOptions = new RunOptions();
        decoder.Run(runOptions, [latentIn.Name], [input.Value], [imageOut.Name], [image.Value]);
        image.Download();
        return new ProducedImage.Pixels(outW, outH, ImageFraming.RgbaFromSignedTensor(image.Data, outW, outH));
    }

    /// <summary>The reference framed to the native size (<see cref="ImageFraming.Fit"/>: cropped to cover or padded to contain), VAE-encoded and scaled.</summary>
    private static float[] EncodeReference(StableDiffusionModel model, string path, ReferenceFit fit, int channels, int height, int width)
    {
        // Upright and whole, as intake checked it; a file stored before intake decoded fully is refused here, never used half-black.
        var damaged = "the file is missing.";
        using var decoded = File.Exists(path) ? ImageDecoding.DecodeUpright(File.ReadAllBytes(path), out damaged) : null;
        if (decoded is null)
            throw new GenerationException(GenerationErrors.ReferenceImageUnreadable, $"The reference image could not be read: {damaged}");
        var encoder = model.VaeEncoder;
        var imageIn = encoder.Input(0, "sample");
        var nativeH = imageIn.Size(2, height * model.DownsampleFactor);
        var nativeW = imageIn.Size(3, width * model.DownsampleFactor);
        using var rgba = decoded.ColorType == SKColorType.Rgba8888 && decoded.AlphaType == SKAlphaType.Opaque ? null : ImageFraming.ToOpaque(decoded);
        var source = rgba ?? decoded;
        using var resized = ImageFraming.Fit(source, nativeW, nativeH, fit);
        using var input = new TensorBuffer(imageIn.ElementType, 1, 3, nativeH, nativeW);
        ImageFraming.ToSignedTensor(resized, input.Data);
        input.Upload();

        var latentOut = encoder.Output(0, "latent_sample", "latent_parameters", "latent_dist");
        using var runOptions = new RunOptions();
        using var results = encoder.Session.Run(runOptions, [imageIn.Name], [input.Value], [latentOut.Name]);
        var shape = results[0].GetTensorTypeAndShape().Shape;
        if (shape.Length != 4 || (shape[1] != channels && shape[1] != 2 * channels) || shape[2] != height || shape[3] != width)
            throw new GenerationException(GenerationErrors.ModelUnavailable,
                $"{encoder.DisplayPath} returns a [{string.Join(",", shape)}] latent; the UNet expects {channels}x{height}x{width}.");
        // A diagonal-Gaussian head returns [mean; logvar] channels: the mean is the first half.
        var values = ReadFloats(results[0]);
        var latent = new float[channels * height * width];
        var scale = (float)model.ScalingFactor;
        for (var k = 0; k < latent.Length; k++) latent[k] = values[k] * scale;
        return latent;
    }

    /// <summary>The reference's clean latent and each image's starting noise: the known part of an inpainting run at any noise level.</summary>
    private sealed record KnownLatents(float[] Reference, float[][] Noise);

    /// <summary>
    /// Inpainting by blending latents (Lugmayr et al., RePaint, 2022; diffusers' StableDiffusionInpaintPipelineLegacy): after
    /// each scheduler step, the latent outside the mask is replaced by the reference's latent noised to the next step's
    /// level, so the model repaints only the masked area while seeing the rest; the last step keeps the clean reference.
    /// Any diffusion model can do it. The finishing step then takes the kept pixels from the reference itself.
    /// </summary>
    private sealed class LatentInpainting(KnownLatents known, float[] weights)
    {
        /// <param name="level">(signal, noise) of the level the latents are at now; (1, 0) once denoised.</param>
        public void KeepUnmasked(LatentBatch latents, (double Signal, double Noise) level)
        {
            var cell = latents.Height * latents.Width;
            float signal = (float)level.Signal, noise = (float)level.Noise;
            for (var i = 0; i < latents.Count; i++)
            {
                var x = latents.Image(i);
                var z = known.Noise[i];
                for (var k = 0; k < x.Length; k++)
                {
                    var w = weights[k % cell];
                    if (w < 1f) x[k] = w * x[k] + (1 - w) * (signal * known.Reference[k] + noise * z[k]);
                }
            }
        }
    }
}

/// <summary>Latents of all images, image-major [N, C, H, W].</summary>
internal sealed class LatentBatch(int count, int channels, int height, int width)
{
    public int Count { get; } = count;
    public int Channels { get; } = channels;
    public int Height { get; } = height;
    public int Width { get; } = width;
    public int ImageSize { get; } = channels * height * width;
    public float[] Data { get; } = new float[count * channels * height * width];

    public Span<float> Image(int index) => Data.AsSpan(index * ImageSize, ImageSize);
}

/// <summary>Encoded prompts, laid out per UNet row: rows [0, N) unconditional, [N, 2N) conditional; without guidance, conditional rows only.</summary>
internal sealed class TextContext(float[] conditioned, float[]? unconditioned, int count, int length)
{
    public int Length { get; } = length;
    public int Width { get; } = conditioned.Length / length;
    public int RowSize => Length * Width;
    public bool Guided => unconditioned is not null;

    public void CopyRows(int first, int rowCount, float[] target)
    {
        var rows = unconditioned is null ? count : 2 * count;
        for (var r = 0; r < rowCount; r++)
        {
            var row = Math.Min(first + r, rows - 1);
            var source = unconditioned is not null && row < count ? unconditioned : conditioned;
            source.AsSpan(0, RowSize).CopyTo(target.AsSpan(r * RowSize, RowSize));
        }
    }
}
