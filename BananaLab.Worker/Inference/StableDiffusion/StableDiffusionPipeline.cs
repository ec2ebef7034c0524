using System.Runtime.ExceptionServices;
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
/// then per image the finishing step's upscaling (which includes the decode) and encoding phases. Several requests can
/// share the UNet calls (<see cref="GenerateBatch"/>); a request alone is a run of one member, through the same code.
/// </summary>
public sealed class StableDiffusionPipeline(StableDiffusionModelCache models, ILogger logger)
{
    /// <summary>Runs one request; throws its failure (<see cref="OperationCanceledException"/> when canceled).</summary>
    public GenerationResult Generate(GenerationRequest request, IGenerationProgress progress, IGenerationOutput output,
        CancellationToken cancellationToken)
    {
        GenerationResult? result = null;
        Exception? failure = null;
        Run([new BatchMember(request, progress, output, cancellationToken)], (_, r, e) => (result, failure) = (r, e));
        if (failure is not null) ExceptionDispatchInfo.Throw(failure);
        return result!;
    }

    /// <summary>
    /// Runs requests of one model with the same step count together, on the calling thread: per denoising step one UNet
    /// call for the rows of every member at that step (members whose prompts encode to different context lengths, or that
    /// differ in guidance or starting step, are grouped into calls of their own). A member whose token fires leaves
    /// before the next step; a member that fails fails alone. <paramref name="complete"/> gets each member's index and
    /// its result or failure as soon as it is known. Each member's images are byte-identical to its run alone: its noise
    /// comes from its own seeds, its prompts are encoded by themselves, and every operation of the graph is per row.
    /// </summary>
    public void Run(IReadOnlyList<BatchMember> members, Action<int, GenerationResult?, Exception?> complete)
    {
        var done = new bool[members.Count];
        void Complete(int index, GenerationResult? result, Exception? failure)
        {
            if (done[index]) return;
            done[index] = true;
            complete(index, result, failure);
        }
        void Fail(int index, Exception failure) =>
            Complete(index, null, failure is OperationCanceledException && members[index].CancellationToken.IsCancellationRequested
                ? new OperationCanceledException(members[index].CancellationToken) : failure);

        if (members.Select(m => (m.Request.Model.Id, m.Request.Steps)).Distinct().Count() > 1)
            throw new ArgumentException("The members of a shared run have one model and one step count.", nameof(members));
        var prepared = new List<MemberRun>();
        StableDiffusionModel? model = null;
        for (var i = 0; i < members.Count; i++)
        {
            try
            {
                members[i].CancellationToken.ThrowIfCancellationRequested();
                model ??= models.Get(members[i].Request.Model);
                prepared.Add(Prepare(model, i, members[i]));
            }
            catch (Exception e)
            {
                Fail(i, e);
            }
        }
        if (model is null) return;

        Denoise(model, prepared, Fail);
        foreach (var run in prepared.Where(r => !done[r.Index]))
        {
            try
            {
                var request = run.Member.Request;
                var images = new List<GeneratedImage>(request.ImageCount);
                for (var i = 0; i < request.ImageCount; i++)
                {
                    run.Member.CancellationToken.ThrowIfCancellationRequested();
                    var image = i;
                    images.Add(run.Member.Output.Finish(i, () => Decode(model, run.Latents, image), run.Member.CancellationToken));
                }
                Complete(run.Index, new GenerationResult(images), null);
            }
            catch (Exception e)
            {
                Fail(run.Index, e);
            }
        }
    }

    /// <summary>One member of a run, ready to denoise: its scheduler, latents, random sources and encoded prompts.</summary>
    private sealed class MemberRun(int index, BatchMember member, DiffusionScheduler scheduler, LatentBatch latents, int start,
        NoiseRandom[] randoms, LatentInpainting? inpainting, TextContext? text)
    {
        public int Index { get; } = index;
        public BatchMember Member { get; } = member;
        public DiffusionScheduler Scheduler { get; } = scheduler;
        public LatentBatch Latents { get; } = latents;
        public int Start { get; } = start;
        public NoiseRandom[] Randoms { get; } = randoms;
        public LatentInpainting? Inpainting { get; } = inpainting;
        /// <summary>The encoded prompts; null when no step is left to run (image-to-image at strength 0).</summary>
        public TextContext? Text { get; } = text;
        /// <summary>This member's noise prediction of a step, its rows laid out as a run of its own ([uncond × N; cond × N]).</summary>
        public float[] Prediction { get; } = new float[(text is { Guided: true } ? 2 : 1) * latents.Data.Length];
        public float[] Fresh { get; } = new float[latents.ImageSize];
        /// <summary>Which of this member's rows share a call: guidance, starting step and context length decide.</summary>
        public (bool Guided, int Start, int ContextLength) CallKey => (Text?.Guided ?? false, Start, Text?.Length ?? 0);
    }

    private MemberRun Prepare(StableDiffusionModel model, int index, BatchMember member)
    {
        var request = member.Request;
        var scheduler = SchedulerFactory.Create(model.Scheduler, request.Model.Scheduler, Math.Max(1, request.Steps));
        var unet = new UnetPorts(model.Unet);
        var (latents, start, randoms, known) = PrepareLatents(model, request, scheduler, unet.Sample);
        var inpainting = request.MaskImagePath is { } maskPath && known is not null
            ? new LatentInpainting(known, InpaintMask.Weights(maskPath, latents.Width, latents.Height, request.ReferenceFit))
            : null;
        var text = start < scheduler.Steps ? EncodePrompts(model, request, unet.Context, request.Guidance > 1.0, member.CancellationToken) : null;
        return new MemberRun(index, member, scheduler, latents, start, randoms, inpainting, text);
    }

    /// <summary>
    /// Denoises every member's latents in place, in the stages of a diffusers pipeline: per step one batched UNet call per
    /// group of members at that step (<see cref="NoisePredictor"/>, its buffers allocated once per membership), then each
    /// member's guidance step and scheduler step. A member that is canceled or fails is handed to <paramref name="fail"/>
    /// and leaves; the calls are rebuilt for those left.
    /// </summary>
    private static void Denoise(StableDiffusionModel model, List<MemberRun> members, Action<int, Exception> fail)
    {
        if (members.Count == 0) return;
        var steps = members[0].Scheduler.Steps;
        var unet = new UnetPorts(model.Unet);
        var left = new HashSet<MemberRun>();
        var calls = new List<SharedCall>();
        try
        {
            for (var step = 0; step < steps; step++)
            {
                foreach (var member in members.Where(m => !left.Contains(m) && m.Member.CancellationToken.IsCancellationRequested))
                {
                    left.Add(member);
                    fail(member.Index, new OperationCanceledException(member.Member.CancellationToken));
                }
                var active = members.Where(m => !left.Contains(m) && m.Text is not null && m.Start <= step).ToList();
                if (!calls.SelectMany(c => c.Members).ToHashSet().SetEquals(active))
                {
                    foreach (var call in calls) call.Dispose();
                    calls = active.GroupBy(m => m.CallKey).Select(g => new SharedCall(model, unet, g.ToList())).ToList();
                }
                foreach (var call in calls)
                {
                    try
                    {
                        call.Step(model, step);
                    }
                    catch (Exception e)
                    {
                        foreach (var member in call.Members.Where(left.Add)) fail(member.Index, e);
                    }
                }
            }
        }
        finally
        {
            foreach (var call in calls) call.Dispose();
        }
    }

    /// <summary>
    /// The UNet call that some members share at each step: their latents side by side ([uncond × N; cond × N] over all their
    /// images), their encoded prompts likewise. With one member the call is stopped mid-run by its token; with several, a
    /// canceled member leaves at the next step so that the others are not disturbed.
    /// </summary>
    private sealed class SharedCall : IDisposable
    {
        private readonly LatentBatch _latents;
        private readonly NoisePredictor _predictor;

        public SharedCall(StableDiffusionModel model, UnetPorts unet, List<MemberRun> members)
        {
            Members = members;
            var first = members[0].Latents;
            _latents = new LatentBatch(members.Sum(m => m.Latents.Count), first.Channels, first.Height, first.Width);
            var text = TextContext.Concat(members.Select(m => m.Text!).ToList());
            _predictor = new NoisePredictor(model.Unet, unet, _latents, text,
                members.Count == 1 ? members[0].Member.CancellationToken : CancellationToken.None);
        }

        public List<MemberRun> Members { get; }

        public void Step(StableDiffusionModel model, int step)
        {
            var offset = 0;
            foreach (var member in Members)
            {
                member.Latents.Data.CopyTo(_latents.Data, offset);
                offset += member.Latents.Data.Length;
            }
            var scheduler = Members[0].Scheduler;
            var prediction = _predictor.Predict(_latents, scheduler.Timesteps[step], scheduler.ModelInputScale(step));
            var imageSize = _latents.ImageSize;
            var firstImage = 0;
            foreach (var member in Members)
            {
                var (latents, count) = (member.Latents, member.Latents.Count);
                var guided = member.Text!.Guided;
                var conditioned = guided ? _latents.Count : 0;
                prediction.AsSpan((conditioned + firstImage) * imageSize, count * imageSize).CopyTo(member.Prediction.AsSpan(guided ? count * imageSize : 0));
                if (guided)
                {
                    prediction.AsSpan(firstImage * imageSize, count * imageSize).CopyTo(member.Prediction);
                    GuidanceStep(member.Prediction, count, imageSize, (float)member.Member.Request.Guidance);
                }
                firstImage += count;
                var schedule = member.Scheduler;
                SchedulerStep(latents, member.Prediction, guided, schedule.Coefficients(step), member.Randoms, member.Fresh);
                member.Inpainting?.KeepUnmasked(latents, step + 1 < schedule.Steps ? schedule.NoiseLevel(step + 1) : (1.0, 0.0));
                member.Member.Progress.Report(new GenerationProgress(step - member.Start + 1, schedule.Steps - member.Start,
                    LatentPreview.Render(latents.Image(0), latents.Channels, latents.Height, latents.Width, model.PreviewMap, model.DownsampleFactor)));
            }
        }

        public void Dispose() => _predictor.Dispose();
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

/// <summary>
/// Encoded prompts, laid out per UNet row: rows [0, N) unconditional, [N, 2N) conditional; without guidance, conditional
/// rows only. Several members' contexts side by side (<see cref="Concat"/>) keep that layout over all their images.
/// </summary>
internal sealed class TextContext
{
    /// <summary>The encoded prompt each row reads (rows share arrays: every image of a request has the same prompt).</summary>
    private readonly float[][] _rows;

    public TextContext(float[] conditioned, float[]? unconditioned, int count, int length)
        : this([.. Enumerable.Repeat(unconditioned, unconditioned is null ? 0 : count).Select(r => r!), .. Enumerable.Repeat(conditioned, count)],
            length, conditioned.Length / length, unconditioned is not null)
    {
    }

    private TextContext(float[][] rows, int length, int width, bool guided) => (_rows, Length, Width, Guided) = (rows, length, width, guided);

    public int Length { get; }
    public int Width { get; }
    public int RowSize => Length * Width;
    public bool Guided { get; }

    /// <summary>The contexts of several members with one context length and guidance, their images side by side.</summary>
    public static TextContext Concat(IReadOnlyList<TextContext> parts)
    {
        if (parts.Count == 1) return parts[0];
        var (first, guided) = (parts[0], parts[0].Guided);
        if (parts.Any(p => p.Length != first.Length || p.Width != first.Width || p.Guided != guided))
            throw new ArgumentException("Contexts that share a call have one length, width and guidance.", nameof(parts));
        var half = (TextContext p) => guided ? p._rows.Length / 2 : 0;
        var rows = guided ? parts.SelectMany(p => p._rows.Take(half(p))) : [];
        return new TextContext([.. rows, .. parts.SelectMany(p => p._rows.Skip(half(p)))], first.Length, first.Width, guided);
    }

    public void CopyRows(int first, int rowCount, float[] target)
    {
        for (var r = 0; r < rowCount; r++)
            _rows[Math.Min(first + r, _rows.Length - 1)].AsSpan(0, RowSize).CopyTo(target.AsSpan(r * RowSize, RowSize));
    }
}
