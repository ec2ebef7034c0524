using BananaLab.Worker.Inference.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace BananaLab.Worker.Inference.StableDiffusion;

/// <summary>The UNet's inputs and outputs, found by their exported names (or position).</summary>
internal sealed class UnetPorts(OnnxModel unet)
{
    public OnnxPort Sample { get; } = unet.Input(0, "sample");
    public OnnxPort Timestep { get; } = unet.Input(1, "timestep");
    public OnnxPort Context { get; } = unet.Input(2, "encoder_hidden_states");
    public OnnxPort Noise { get; } = unet.Output(0, "out_sample");
}

/// <summary>
/// The UNet's noise prediction for every row of a denoising step: [uncond × N; cond × N] with guidance, [cond × N]
/// without. A dynamic batch axis takes all rows in one call; a fixed one is fed in groups (a short last group repeats its
/// last row). The tensors bound to the session are allocated once, here, and reused by every step.
/// </summary>
internal sealed class NoisePredictor : IDisposable
{
    private readonly OnnxModel _unet;
    private readonly TensorBuffer _sample, _context, _noise;
    private readonly TimestepBuffer _timestep;
    private readonly RunOptions _runOptions = new();
    private readonly CancellationTokenRegistration _cancelRun;
    private readonly CancellationToken _cancellationToken;
    private readonly TextContext _text;
    private readonly string[] _inputNames, _outputNames;
    private readonly OrtValue[] _inputs, _outputs;
    private readonly int _count, _rows, _rowsPerCall, _groups, _latentSize;
    private readonly float[] _prediction;

    public NoisePredictor(OnnxModel unet, UnetPorts ports, LatentBatch latents, TextContext text, CancellationToken cancellationToken)
    {
        _unet = unet;
        _text = text;
        _cancellationToken = cancellationToken;
        _count = latents.Count;
        _latentSize = latents.ImageSize;
        _rows = text.Guided ? 2 * _count : _count;
        _rowsPerCall = ports.Sample.IsDynamic(0) ? _rows : Math.Max(1, ports.Sample.Dimensions[0]);
        _groups = (_rows + _rowsPerCall - 1) / _rowsPerCall;
        _sample = new TensorBuffer(ports.Sample.ElementType, _rowsPerCall, latents.Channels, latents.Height, latents.Width);
        _timestep = new TimestepBuffer(ports.Timestep, _rowsPerCall);
        _context = new TensorBuffer(ports.Context.ElementType, _rowsPerCall, text.Length, text.Width);
        _noise = new TensorBuffer(ports.Noise.ElementType, _rowsPerCall, latents.Channels, latents.Height, latents.Width);
        _cancelRun = cancellationToken.Register(() => _runOptions.Terminate = true);
        _inputNames = [ports.Sample.Name, ports.Timestep.Name, ports.Context.Name];
        _outputNames = [ports.Noise.Name];
        _inputs = [_sample.Value, _timestep.Value, _context.Value];
        _outputs = [_noise.Value];
        _prediction = new float[_rows * _latentSize];
        if (_groups == 1)
        {
            text.CopyRows(0, _rows, _context.Data);
            _context.Upload();
        }
    }

    /// <summary>The noise of every row at <paramref name="timestep"/>, the latents scaled by <paramref name="inputScale"/> on the way in.</summary>
    public float[] Predict(LatentBatch latents, double timestep, double inputScale)
    {
        var scale = (float)inputScale;
        _timestep.Set(timestep);
        for (var group = 0; group < _groups; group++)
        {
            var first = group * _rowsPerCall;
            for (var r = 0; r < _rowsPerCall; r++)
            {
                var row = Math.Min(first + r, _rows - 1);
                var source = latents.Image(row % _count);
                var target = _sample.Data.AsSpan(r * _latentSize, _latentSize);
                for (var k = 0; k < _latentSize; k++) target[k] = source[k] * scale;
            }
            _sample.Upload();
            if (_groups > 1)
            {
                _text.CopyRows(first, _rowsPerCall, _context.Data);
                _context.Upload();
            }
            Run();
            _noise.Download();
            var take = Math.Min(_rowsPerCall, _rows - first);
            _noise.Data.AsSpan(0, take * _latentSize).CopyTo(_prediction.AsSpan(first * _latentSize));
        }
        return _prediction;
    }

    private void Run()
    {
        try
        {
            _unet.Run(_runOptions, _inputNames, _inputs, _outputNames, _outputs);
        }
        catch (OnnxRuntimeException) when (_cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(_cancellationToken);
        }
    }

    public void Dispose()
    {
        _cancelRun.Dispose();
        _runOptions.Dispose();
        _sample.Dispose();
        _timestep.Dispose();
        _context.Dispose();
        _noise.Dispose();
    }
}
