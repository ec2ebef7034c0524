using System.Text.Json;
using BananaLab.Worker.Inference.Tokenization;

namespace BananaLab.Tests.Inference.Tokenization;

public sealed class ClipTokenizerTests
{
    private static readonly ClipTokenizer Tokenizer =
        ClipTokenizer.Load(InferenceTestModels.ClipBpeTokenizer, "clip-bpe-tokenizer");

    private static readonly TokenizerTestVectors Vectors = new(InferenceTestModels.DataFile("tokenizer_test_vectors.json"));

    public static TheoryData<int> Cases() => Vectors.Indices();

    private static JsonElement Case(int index) => Vectors.Case(index);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Input_ids_match_the_python_tokenizer(int index)
    {
        var (text, expected) = Vectors.Read(index, "input_ids", e => e.GetInt64());
        Assert.Equal(expected, Tokenizer.EncodeForModel(text));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Pre_tokens_match_the_python_pre_tokenizer(int index)
    {
        var text = Case(index).GetProperty("text").GetString()!;
        var expected = Case(index).GetProperty("pretokens").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Equal(expected, ClipTokenizer.PreTokenize(ClipTokenizer.CleanWhitespace(text).ToLowerInvariant()));
    }

    [Theory]
    // Expected ids from tools/train-nano/clip_bpe.py: \p{L} per code point, and U+001C as Python whitespace.
    [InlineData("𝐀𝐁c apple", new[] { 172, 251, 238, 222, 172, 251, 238, 223, 322, 1388 })]
    [InlineData("x\u001cy", new[] { 343, 344 })]
    // Python's str.lower: İ becomes i + U+0307, and a word-final capital sigma becomes ς.
    [InlineData("İstanbul", new[] { 328, 136, 485, 572, 526, 615, 331 })]
    [InlineData("ΟΔΟΣ ΑΣ.", new[] { 138, 123, 138, 112, 138, 123, 139, 480, 138, 109, 139, 480, 269 })]
    [InlineData("ὈΔΥΣΣΕΎΣ", new[] { 157, 121, 222, 138, 112, 139, 227, 139, 225, 139, 225, 138, 113, 139, 235, 139, 480 })]
    [InlineData("aΣ\u0301b", new[] { 64, 139, 481, 136, 479, 321 })]
    public void Code_points_outside_the_test_vectors_tokenize_like_python(string text, int[] expected)
    {
        Assert.Equal(expected, Tokenizer.Encode(text));
    }

    [Fact]
    public void Bos_eos_and_pad_come_from_the_vocabulary_and_config()
    {
        Assert.Equal(Vectors.Root.GetProperty("bos_token_id").GetInt32(), Tokenizer.BosId);
        Assert.Equal(Vectors.Root.GetProperty("eos_token_id").GetInt32(), Tokenizer.EosId);
        Assert.Equal(Vectors.Root.GetProperty("pad_token_id").GetInt32(), Tokenizer.PadId);
        Assert.Equal(Vectors.Root.GetProperty("model_max_length").GetInt32(), Tokenizer.MaxLength);
    }

    [Fact]
    public void Short_prompt_is_padded_with_eos_to_the_model_length()
    {
        var ids = Tokenizer.EncodeForModel("red apple");
        Assert.Equal(77, ids.Length);
        Assert.Equal(Tokenizer.BosId, ids[0]);
        Assert.All(ids[3..], id => Assert.Equal(Tokenizer.EosId, id));
    }

    [Fact]
    public void Long_prompt_for_one_input_keeps_75_tokens_and_ends_with_eos()
    {
        var prompt = string.Join(" ", Enumerable.Repeat("red apple", 50));
        var ids = Tokenizer.EncodeForModel(prompt);
        Assert.Equal(77, ids.Length);
        Assert.Equal(Tokenizer.EosId, ids[76]);
        Assert.Equal(Tokenizer.Encode(prompt).Take(75).Select(i => (long)i), ids[1..76]);
    }

    [Fact]
    public void Long_prompt_is_split_into_77_token_chunks_instead_of_cut()
    {
        var prompt = string.Join(" ", Enumerable.Repeat("red apple", 50)); // 100 tokens
        var tokens = Tokenizer.Encode(prompt);
        var chunks = Tokenizer.EncodeChunks(prompt);

        Assert.Equal(100, tokens.Count);
        Assert.Equal(2, chunks.Count);
        Assert.All(chunks, c => Assert.Equal(77, c.Length));
        Assert.All(chunks, c => Assert.Equal(Tokenizer.BosId, c[0]));
        Assert.Equal(tokens.Take(75).Select(i => (long)i), chunks[0][1..76]);
        Assert.Equal(Tokenizer.EosId, chunks[0][76]);
        Assert.Equal(tokens.Skip(75).Select(i => (long)i), chunks[1][1..26]);
        Assert.All(chunks[1][26..], id => Assert.Equal(Tokenizer.EosId, id));
    }

    [Fact]
    public void Empty_prompt_is_one_chunk_of_bos_and_eos()
    {
        var chunk = Assert.Single(Tokenizer.EncodeChunks(""));
        Assert.Equal(Tokenizer.BosId, chunk[0]);
        Assert.All(chunk[1..], id => Assert.Equal(Tokenizer.EosId, id));
    }
}
