using System.Text;
using BananaLab.Core.Generation;
using BananaLab.Tests.Infrastructure;
using BananaLab.Worker.Inference;
using BananaLab.Worker.Inference.Runtime;
using BananaLab.Worker.Inference.Tokenization;
using Microsoft.Extensions.Options;
using static BananaLab.Tests.Inference.InferenceTestModels;

namespace BananaLab.Tests.Inference.Tokenization;

/// <summary>
/// A model folder whose tokenizer is an ONNX graph (ONNX Runtime Extensions' <c>CLIPTokenizer</c>, the layout of Microsoft's
/// C# Stable Diffusion sample and of OnnxStack) reads prompts exactly as one with <c>vocab.json</c>/<c>merges.txt</c>. The
/// graph, <c>Data/banana-nano-cliptokenizer.onnx</c>, holds banana-nano 1's vocabulary and merges (<c>Data/clip-bpe-tokenizer</c>);
/// it was written by <c>/usr/bin/python3 tools/tokenizer-graph/clip_tokenizer_graph.py BananaLab.Tests/Inference/Data/clip-bpe-tokenizer
/// BananaLab.Tests/Inference/Data/banana-nano-cliptokenizer.onnx</c> (rerun it when the vocabulary changes).
/// </summary>
public sealed class ClipTokenizerGraphTests : IDisposable
{
    private static readonly string GraphFile = DataFile("banana-nano-cliptokenizer.onnx");
    private readonly TempDirectory _temp = new();
    private readonly OnnxSessionFactory _sessions = new(Options.Create(new InferenceOptions { ExecutionProvider = InferenceExecutionProvider.Cpu }));

    [Fact]
    public void The_graph_gives_the_ids_of_microsoft_ml_tokenizers_for_200_prompts()
    {
        using var fromVocabulary = ClipTokenizer.Load(ClipBpeTokenizer, "clip-bpe-tokenizer");
        using var fromGraph = ClipTokenizer.ForModel(FolderWith(("tokenizer/model.onnx", GraphFile)), "graph", _sessions);

        Assert.Equal((fromVocabulary.BosId, fromVocabulary.EosId, fromVocabulary.PadId), (fromGraph.BosId, fromGraph.EosId, fromGraph.PadId));
        var prompts = Prompts();
        Assert.Equal(200, prompts.Count);
        Assert.Contains(prompts, p => p.Length == 0);
        Assert.Contains(prompts, p => fromVocabulary.Encode(p).Count > 3 * fromVocabulary.TokensPerChunk);
        foreach (var prompt in prompts)
        {
            var expected = fromVocabulary.EncodeChunks(prompt);
            var actual = fromGraph.EncodeChunks(prompt);
            Assert.True(expected.Count == actual.Count && expected.Zip(actual).All(pair => pair.First.SequenceEqual(pair.Second)),
                $"The graph tokenized {Escape(prompt)} as {string.Join(' ', fromGraph.Encode(prompt))}; " +
                $"Microsoft.ML.Tokenizers as {string.Join(' ', fromVocabulary.Encode(prompt))}.");
        }
    }

    [Theory]
    [InlineData("tokenizer/model.onnx")]
    [InlineData("cliptokenizer.onnx")]
    public async Task A_model_folder_with_a_tokenizer_graph_generates_the_same_bytes(string graphPath)
    {
        var graphFolder = FolderWith((graphPath, GraphFile));
        var vocabularyFolder = BpeModelFolder(Path.Combine(_temp.Path, "vocabulary"));
        var generator = CreateGenerator();
        var withVocabulary = new MemoryImageOutput();
        var withGraph = new MemoryImageOutput();
        const string prompt = "a red apple and a green pear, 🍎🍐, café";

        await generator.GenerateAsync(Request(64, 64, count: 2, steps: 3, prompt: prompt, negative: "blurry", model: Nano(vocabularyFolder)),
            new RecordingProgress(), withVocabulary, CancellationToken.None);
        await generator.GenerateAsync(Request(64, 64, count: 2, steps: 3, prompt: prompt, negative: "blurry", model: Nano(graphFolder)),
            new RecordingProgress(), withGraph, CancellationToken.None);

        Assert.False(File.Exists(Path.Combine(graphFolder, "tokenizer", "vocab.json")));
        for (var i = 0; i < 2; i++) Assert.Equal(withVocabulary.Bytes(i), withGraph.Bytes(i));
    }

    [Fact]
    public async Task A_graph_that_is_not_a_tokenizer_is_an_error_naming_the_file()
    {
        var folder = FolderWith(("cliptokenizer.onnx", Path.Combine(NanoFolder, "vae_decoder", "model.onnx")));

        var error = await Assert.ThrowsAsync<GenerationException>(() =>
            CreateGenerator().GenerateAsync(Request(64, 64, steps: 1, model: Nano(folder)), new RecordingProgress(),
                new MemoryImageOutput(), CancellationToken.None));

        Assert.Equal(GenerationErrors.ModelUnavailable, error.Code);
        Assert.Contains("/cliptokenizer.onnx is not a CLIP tokenizer graph", error.Message);
    }

    /// <summary>
    /// A BPE model folder (<see cref="BpeModelFolder"/>) without its vocabulary and merges, with <paramref name="extra"/>
    /// (path in the folder, source file) added.
    /// </summary>
    private string FolderWith((string Path, string Source) extra)
    {
        var folder = BpeModelFolder(Path.Combine(_temp.Path, Guid.NewGuid().ToString("N")), withVocabulary: false);
        var added = Path.Combine(folder, extra.Path);
        Directory.CreateDirectory(Path.GetDirectoryName(added)!);
        File.Copy(extra.Source, added);
        return folder;
    }

    /// <summary>
    /// 200 prompts: 60 written out (plain, punctuation, contractions, digits, accents, scripts, emoji with modifiers and
    /// joiners, odd whitespace, special-token text, empty) and 140 drawn with a fixed seed from words, emoji and code
    /// points of many blocks, some long enough for several 77-token chunks.
    /// </summary>
    private static List<string> Prompts()
    {
        var prompts = new List<string>
        {
            "", " ", "a", "red apple", "A RED APPLE", "a red apple on a wooden table, studio lighting, 4k",
            "banana", "bananas!!!", "banana's peel", "it's what we'll do, they've said; I'm sure you'd agree",
            "don't   stop\tbelieving\n\nnow", "  leading and trailing  ", "café crème brûlée", "Ærøskøbing straße",
            "naïve résumé façade", "東京の夜景", "한국어 프롬프트", "Москва зимой", "مرحبا بالعالم", "שלום עולם",
            "हिन्दी में चित्र", "ภาษาไทย", "Ελληνικά γράμματα ΟΔΟΣ İstanbul", "🍌", "🍎🍐🍊", "👍🏽 thumbs up", "👩‍💻 coder at night",
            "🏳️‍🌈 flag", "❤️ heart", "🇯🇵 flag of Japan", "1234567890", "3.14159 and 2,718", "50% off", "#hashtag @user",
            "email@example.com http://x.test/a?b=c", "a+b=c", "(parenthesised) [bracketed] {braced}", "<|startoftext|>",
            "<|endoftext|>", "a <|endoftext|> b", "<|startoftext|>hello<|endoftext|>", "multiple...dots", "em—dash – en–dash",
            "“curly quotes” ‘single’", "tab\tseparated\tvalues", "line\rfeeds\r\nand\u2028separators", "zero\u200Bwidth",
            "non\u00A0breaking", "𝐁𝐨𝐥𝐝 𝐦𝐚𝐭𝐡", "ｆｕｌｌｗｉｄｔｈ", "ﬁ ligature", "Ⅻ roman twelve", "½ cup", "x\u001Cy",
            "ALLCAPS MixedCase camelCaseWord", "snake_case_word kebab-case-word", "a,b,c,d,e,f", "!!!???...", "\u0301 alone",
            string.Join(' ', Enumerable.Repeat("a very long prompt about bananas", 40)),
        };
        string[] words = ["banana", "apple", "sunset", "mountain", "portrait", "of", "a", "cat", "wearing", "hat", "neon", "city",
            "watercolor", "oil", "painting", "highly", "detailed", "octane", "render", "trending", "bokeh", "golden", "hour",
            "it's", "we're", "they'll", "smile", "😀", "🍌", "🌅", "🐱", "🎩", "✨", "café", "東京", "Ωmega", "x2", "8k", "f/1.8"];
        (int From, int To)[] blocks = [(0x20, 0x7E), (0xA0, 0x24F), (0x370, 0x3FF), (0x400, 0x4FF), (0x590, 0x6FF), (0x900, 0x97F),
            (0x3040, 0x30FF), (0x4E00, 0x4FFF), (0xAC00, 0xAD00), (0x2000, 0x206F), (0x1F300, 0x1F64F), (0x1F900, 0x1F9FF), (0x1D400, 0x1D4FF)];
        var random = new Random(20);
        while (prompts.Count < 200)
        {
            var text = new StringBuilder();
            var long_ = prompts.Count % 20 == 0;
            var pieces = long_ ? random.Next(120, 260) : random.Next(1, 25);
            for (var i = 0; i < pieces; i++)
            {
                if (random.Next(4) == 0)
                {
                    var (from, to) = blocks[random.Next(blocks.Length)];
                    for (var n = random.Next(1, 5); n > 0; n--) text.Append(char.ConvertFromUtf32(random.Next(from, to + 1)));
                }
                else text.Append(words[random.Next(words.Length)]);
                text.Append(random.Next(6) switch { 0 => ", ", 1 => "  ", 2 => "", _ => " " });
            }
            prompts.Add(text.ToString());
        }
        return prompts;
    }

    private static string Escape(string text) =>
        "\"" + string.Concat(text.EnumerateRunes().Select(r => r.Value is < 0x20 or > 0x7E ? $"\\u{{{r.Value:X}}}" : r.ToString())) + "\"";

    public void Dispose() => _temp.Dispose();
}
