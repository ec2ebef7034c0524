using System.Text.Json;

namespace BananaLab.Tests.Inference.Tokenization;

/// <summary>
/// A file of tokenizer test vectors written by a Python script (<c>{"cases": [{"text": ..., ...}, ...]}</c>): the
/// theory data is each case's index, so a failure names the case.
/// </summary>
public sealed class TokenizerTestVectors(string path)
{
    public JsonElement Root { get; } = JsonDocument.Parse(File.ReadAllText(path)).RootElement;

    public TheoryData<int> Indices()
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < Root.GetProperty("cases").GetArrayLength(); i++) data.Add(i);
        return data;
    }

    public JsonElement Case(int index) => Root.GetProperty("cases")[index];

    /// <summary>The case's text and one of its arrays, as the test compares them.</summary>
    public (string Text, T[] Expected) Read<T>(int index, string property, Func<JsonElement, T> read) =>
        (Case(index).GetProperty("text").GetString()!, Case(index).GetProperty(property).EnumerateArray().Select(read).ToArray());
}
