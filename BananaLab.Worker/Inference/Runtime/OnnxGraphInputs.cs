namespace BananaLab.Worker.Inference.Runtime;

/// <summary>
/// Reads a graph's input names and shapes straight from an <c>.onnx</c> file's protobuf, without creating an ONNX Runtime
/// session: a web node can learn a model's fixed axes (a UNet's text context) without loading gigabytes of weights. Only
/// <c>ModelProto.graph</c> (7) → <c>GraphProto.input</c> (11) → <c>ValueInfoProto</c> name (1) and
/// <c>type.tensor_type.shape.dim</c> (2 → 1 → 2 → 1: <c>dim_value</c> 1 or <c>dim_param</c> 2) are read; everything else,
/// weights included, is skipped by seeking. Source: onnx/onnx.proto3 (ONNX IR), protobuf wire format.
/// </summary>
public static class OnnxGraphInputs
{
    /// <summary>Each graph input's dimensions, -1 where an axis is symbolic or unset. Throws <see cref="InvalidDataException"/> on a malformed file.</summary>
    public static IReadOnlyDictionary<string, long[]> Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.RandomAccess);
        var reader = new Reader(stream);
        var inputs = new Dictionary<string, long[]>();
        foreach (var (field, _, end) in reader.Fields(stream.Length))
        {
            if (field != 7) continue;
            foreach (var (graphField, _, inputEnd) in reader.Fields(end))
                if (graphField == 11)
                {
                    var (name, dims) = ReadValueInfo(reader, inputEnd);
                    if (name is not null) inputs[name] = dims;
                }
        }
        return inputs;
    }

    private static (string? Name, long[] Dims) ReadValueInfo(Reader reader, long end)
    {
        string? name = null;
        var dims = new List<long>();
        foreach (var (field, _, fieldEnd) in reader.Fields(end))
        {
            if (field == 1) name = reader.String(fieldEnd);
            else if (field == 2)
                foreach (var (typeField, _, tensorEnd) in reader.Fields(fieldEnd))
                    if (typeField == 1)
                        foreach (var (tensorField, _, shapeEnd) in reader.Fields(tensorEnd))
                            if (tensorField == 2)
                                foreach (var (shapeField, _, dimEnd) in reader.Fields(shapeEnd))
                                    if (shapeField == 1) dims.Add(ReadDim(reader, dimEnd));
        }
        return (name, dims.ToArray());
    }

    private static long ReadDim(Reader reader, long end)
    {
        long value = -1;
        foreach (var (field, varint, _) in reader.Fields(end))
            if (field == 1) value = varint;
        return value;
    }

    /// <summary>Protobuf wire format over a seekable stream: fields are visited in order and unread bodies skipped.</summary>
    private sealed class Reader(Stream stream)
    {
        /// <summary>
        /// The fields up to <paramref name="end"/>: number, the value of a varint field (else 0), and where a length-delimited
        /// field's body ends (the caller may read it; the position moves past it either way).
        /// </summary>
        public IEnumerable<(int Field, long Varint, long End)> Fields(long end)
        {
            while (stream.Position < end)
            {
                var tag = Varint();
                var field = (int)(tag >> 3);
                switch (tag & 7)
                {
                    case 0:
                        yield return (field, Varint(), stream.Position);
                        break;
                    case 1:
                        stream.Seek(8, SeekOrigin.Current);
                        break;
                    case 2:
                        var length = Varint();
                        var bodyEnd = stream.Position + length;
                        if (length < 0 || bodyEnd > end) throw new InvalidDataException("A field runs past its message.");
                        yield return (field, 0, bodyEnd);
                        stream.Position = bodyEnd;
                        break;
                    case 5:
                        stream.Seek(4, SeekOrigin.Current);
                        break;
                    default:
                        throw new InvalidDataException($"Wire type {tag & 7} is not protobuf's.");
                }
            }
        }

        public string String(long end)
        {
            var bytes = new byte[end - stream.Position];
            stream.ReadExactly(bytes);
            return System.Text.Encoding.UTF8.GetString(bytes);
        }

        private long Varint()
        {
            long value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = stream.ReadByte();
                if (b < 0) throw new InvalidDataException("The file ends inside a number.");
                value |= (long)(b & 0x7F) << shift;
                if ((b & 0x80) == 0) return value;
            }
            throw new InvalidDataException("A number is longer than 10 bytes.");
        }
    }
}
