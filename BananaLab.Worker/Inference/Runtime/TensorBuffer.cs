using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace BananaLab.Worker.Inference.Runtime;

/// <summary>
/// A float tensor the pipeline works on in fp32, bound once to an <see cref="OrtValue"/> of the graph's
/// own element type. Float graphs share the managed array (no copy); fp16 graphs convert at the
/// boundary with <see cref="Half"/> in <see cref="Upload"/> and <see cref="Download"/>.
/// </summary>
public sealed class TensorBuffer : IDisposable
{
    private readonly Float16[]? _half;

    public TensorBuffer(TensorElementType elementType, params long[] shape)
    {
        Shape = shape;
        var length = checked((int)shape.Aggregate(1L, (a, b) => a * b));
        Data = new float[length];
        switch (elementType)
        {
            case TensorElementType.Float:
                Value = OrtValue.CreateTensorValueFromMemory(Data, shape);
                break;
            case TensorElementType.Float16:
                _half = new Float16[length];
                Value = OrtValue.CreateTensorValueFromMemory(_half, shape);
                break;
            default:
                throw new NotSupportedException($"Tensors of {elementType} are not supported where float is expected.");
        }
    }

    public long[] Shape { get; }
    public float[] Data { get; }
    public OrtValue Value { get; }

    /// <summary>Copies <see cref="Data"/> into the fp16 tensor; a no-op for float graphs.</summary>
    public void Upload()
    {
        if (_half is null) return;
        var halves = MemoryMarshal.Cast<Float16, Half>(_half.AsSpan());
        for (var i = 0; i < Data.Length; i++) halves[i] = (Half)Data[i];
    }

    /// <summary>Copies the fp16 tensor back into <see cref="Data"/>; a no-op for float graphs.</summary>
    public void Download()
    {
        if (_half is null) return;
        var halves = MemoryMarshal.Cast<Float16, Half>(_half.AsSpan());
        for (var i = 0; i < Data.Length; i++) Data[i] = (float)halves[i];
    }

    public void Dispose() => Value.Dispose();
}

/// <summary>A timestep tensor in whatever form the UNet declares: int64/int32/float/fp16, scalar or per row.</summary>
public sealed class TimestepBuffer : IDisposable
{
    private readonly TensorElementType _type;
    private readonly Array _data;

    public TimestepBuffer(OnnxPort port, int rows)
    {
        _type = port.ElementType;
        long[] shape = port.Rank == 0 ? [] : port.Rank == 1 ? [port.Size(0, rows)] : [port.Size(0, rows), 1];
        var length = (int)shape.Aggregate(1L, (a, b) => a * b);
        (_data, Value) = _type switch
        {
            TensorElementType.Int64 => Bind(new long[length], shape),
            TensorElementType.Int32 => Bind(new int[length], shape),
            TensorElementType.Float => Bind(new float[length], shape),
            TensorElementType.Float16 => Bind(new Float16[length], shape),
            TensorElementType.Double => Bind(new double[length], shape),
            _ => throw new NotSupportedException($"A timestep of {_type} is not supported."),
        };
    }

    public OrtValue Value { get; }

    private static (Array, OrtValue) Bind<T>(T[] data, long[] shape) where T : unmanaged =>
        (data, OrtValue.CreateTensorValueFromMemory(data, shape));

    /// <summary>Integer graphs get the rounded timestep (diffusers passes discrete timesteps as ints).</summary>
    public void Set(double timestep)
    {
        switch (_data)
        {
            case long[] a: Array.Fill(a, (long)Math.Round(timestep)); break;
            case int[] a: Array.Fill(a, (int)Math.Round(timestep)); break;
            case float[] a: Array.Fill(a, (float)timestep); break;
            case double[] a: Array.Fill(a, timestep); break;
            case Float16[] a: Array.Fill(a, BitConverter.HalfToUInt16Bits((Half)timestep) is var bits ? new Float16(bits) : default); break;
        }
    }

    public void Dispose() => Value.Dispose();
}
