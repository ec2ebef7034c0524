using BananaLab.Core.Generation;
using BananaLab.Worker.Inference.Runtime;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace BananaLab.Worker.Inference.Tokenization;

/// <summary>
/// A CLIP tokenizer exported as an ONNX graph, run by ONNX Runtime Extensions: a <c>CLIPTokenizer</c> node of the
/// <c>ai.onnx.contrib</c> domain with the vocabulary and merges as attributes, string input <c>[N]</c> →
/// <c>input_ids</c> int64 <c>[N, L]</c> (bos and eos included, rows padded to the longest) and optionally
/// <c>attention_mask</c>. This is the <c>cliptokenizer.onnx</c> of Microsoft's C# Stable Diffusion sample and the
/// <c>tokenizer/model.onnx</c> of OnnxStack and Amuse model folders.
/// </summary>
/// <remarks>
/// The graph gets CLIP's words, not whole prompts: <see cref="ClipTokenizer.PreTokenSpans"/> splits the prompt, the
/// special-token words map to bos and eos here, and every other word is one row of a single batched call. Given whole
/// prompts, Extensions 0.14.0's operator departs from CLIP twice: it keeps a run of digits as one word ("2024" → "2","0",
/// "2","4&lt;/w&gt;") where CLIP's pattern makes each digit a word, and it crashes the process (SIGSEGV) on a special
/// token after a space ("a &lt;|endoftext|&gt;"), which any user could type.
/// </remarks>
internal sealed class ClipTokenizerGraph : IDisposable
{
    private readonly OnnxModel _graph;
    private readonly string _input, _ids;
    private readonly string? _mask;

    private ClipTokenizerGraph(OnnxModel graph)
    {
        _graph = graph;
        _input = graph.Input(0, "string_input", "text").Name;
        _ids = graph.Output(0, "input_ids").Name;
        _mask = graph.Outputs.FirstOrDefault(p => p.Name == "attention_mask")?.Name;
        var framing = Run([""])[0];
        if (framing.Length != 2)
            throw new GenerationException(GenerationErrors.ModelUnavailable,
                $"{graph.DisplayPath} gives {framing.Length} ids for an empty prompt; a CLIP tokenizer gives bos and eos.");
        BosId = (int)framing[0];
        EosId = (int)framing[1];
    }

    /// <summary>The graph's start-of-text id: the first id of every row.</summary>
    public int BosId { get; }

    /// <summary>The graph's end-of-text id: the last id of every row.</summary>
    public int EosId { get; }

    /// <summary>Opens the graph with the Extensions operators; <c>model_unavailable</c> naming the file when it does not load.</summary>
    public static ClipTokenizerGraph Open(OnnxSessionFactory sessions, string path, string displayPath)
    {
        var graph = sessions.OpenWithExtensions(path, displayPath);
        try
        {
            return new ClipTokenizerGraph(graph);
        }
        catch (Exception e)
        {
            graph.Dispose();
            throw e is GenerationException ? e : new GenerationException(GenerationErrors.ModelUnavailable,
                $"{displayPath} is not a CLIP tokenizer graph: {e.Message.Split('\n')[0]}", transient: false, e);
        }
    }

    /// <summary>The BPE ids of a whitespace-cleaned <paramref name="text"/>, without bos and eos around the whole.</summary>
    public IReadOnlyList<int> Encode(string text)
    {
        var lowered = ClipTokenizer.Lower(text);
        var words = ClipTokenizer.PreTokenSpans(lowered).Select(span => lowered.Substring(span.Offset, span.Length)).ToList();
        var ordinary = words.Where(word => SpecialId(word) is null).ToList();
        var rows = ordinary.Count == 0 ? [] : Run(ordinary);
        var ids = new List<int>();
        var row = 0;
        foreach (var word in words)
        {
            if (SpecialId(word) is { } special) ids.Add(special);
            else foreach (var id in rows[row++][1..^1]) ids.Add((int)id);
        }
        return ids;
    }

    private int? SpecialId(string word) => word switch
    {
        ClipTokenizer.StartOfText => BosId,
        ClipTokenizer.EndOfText => EosId,
        _ => null,
    };

    /// <summary>One call for all <paramref name="texts"/>: each row's ids, bos and eos included, padding removed.</summary>
    private long[][] Run(IReadOnlyList<string> texts)
    {
        var input = new DenseTensor<string>(texts.ToArray(), [texts.Count]);
        string[] outputs = _mask is null ? [_ids] : [_ids, _mask];
        using var results = _graph.Session.Run([NamedOnnxValue.CreateFromTensor(_input, input)], outputs);
        var ids = results[0].AsTensor<long>();
        var mask = _mask is null ? null : results[1].AsTensor<long>();
        if (texts.Count > 1 && mask is null)
            throw new GenerationException(GenerationErrors.ModelUnavailable,
                $"{_graph.DisplayPath} has no attention_mask output, so its padded rows cannot be read.");
        var width = ids.Dimensions[^1];
        return Enumerable.Range(0, texts.Count).Select(r =>
        {
            var length = mask is null ? width : Enumerable.Range(0, width).Count(c => mask[r, c] != 0);
            return Enumerable.Range(0, length).Select(c => ids[r, c]).ToArray();
        }).ToArray();
    }

    public void Dispose() => _graph.Dispose();
}
