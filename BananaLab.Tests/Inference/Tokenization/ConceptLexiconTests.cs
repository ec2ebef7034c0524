using BananaLab.Worker.Inference.Tokenization;

namespace BananaLab.Tests.Inference.Tokenization;

/// <summary>
/// The C# concept lexicon against the Python rule (<c>tools/train-nano/lexicon2.py</c>): words, concept ids and model
/// input ids of the texts in <c>tools/train-nano/lexicon_test_vectors.json</c> (written by <c>make_lexicon_vectors.py</c>),
/// read through the shipped model folder as the pipeline reads it.
/// </summary>
public class ConceptLexiconTests
{
    private static readonly string TokenizerFolder = Path.Combine(InferenceTestModels.NanoFolder, "tokenizer");

    private static readonly Lazy<ConceptLexicon> Lexicon = new(() => ConceptLexicon.Load(TokenizerFolder));

    private static readonly TokenizerTestVectors Vectors =
        new(Path.Combine(InferenceTestModels.RepositoryRoot, "tools", "train-nano", "lexicon_test_vectors.json"));

    public static TheoryData<int> Cases() => Vectors.Indices();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Words_match_the_python_rule(int index)
    {
        var (text, expected) = Vectors.Read(index, "words", e => e.GetString()!);
        Assert.Equal(expected, ConceptLexicon.Words(text));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Concept_ids_match_the_python_rule(int index)
    {
        var (text, expected) = Vectors.Read(index, "concept_ids", e => e.GetInt32());
        Assert.Equal(expected, Lexicon.Value.ConceptIds(text));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_model_folder_tokenizer_gives_the_python_input_ids(int index)
    {
        using var tokenizer = ClipTokenizer.LoadLexicon(TokenizerFolder, "models/banana-nano/tokenizer");
        var (text, expected) = Vectors.Read(index, "input_ids", e => e.GetInt64());
        Assert.Equal(expected, tokenizer.EncodeForModel(text));
    }

    [Fact]
    public void Bos_and_eos_are_the_last_two_ids_after_the_concepts()
    {
        Assert.Equal(Vectors.Root.GetProperty("bos").GetInt32(), Lexicon.Value.BosId);
        Assert.Equal(Vectors.Root.GetProperty("eos").GetInt32(), Lexicon.Value.EosId);
        Assert.Equal(Vectors.Root.GetProperty("n_concepts").GetInt32(), Lexicon.Value.BosId);
    }

    [Fact]
    public void Banana_nano_turbo_reads_the_same_lexicon_object_through_its_link()
    {
        var turbo = Path.Combine(InferenceTestModels.ModelsRoot, "banana-nano-turbo", "tokenizer");

        Assert.Same(ConceptLexicon.LoadShared(TokenizerFolder), ConceptLexicon.LoadShared(turbo));
    }

    [Fact]
    public void A_corrupt_table_line_is_named()
    {
        var folder = Directory.CreateTempSubdirectory("lexicon-").FullName;
        try
        {
            File.Copy(Path.Combine(TokenizerFolder, ConceptLexicon.ConfigFile), Path.Combine(folder, ConceptLexicon.ConfigFile));
            using (var gz = new System.IO.Compression.GZipStream(File.Create(Path.Combine(folder, ConceptLexicon.TableFile)),
                       System.IO.Compression.CompressionLevel.Fastest))
            using (var writer = new StreamWriter(gz))
                writer.Write("cat\t497\ndog\tnot-an-id\n");
            var e = Assert.Throws<InvalidDataException>(() => ConceptLexicon.Load(folder));
            Assert.Contains("line 2", e.Message);
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }
}
