namespace BananaLab.Core.Errors;

/// <summary>
/// One error code of the public API: its stable <paramref name="Code"/> (never changes), its <paramref name="Kind"/>,
/// a short <paramref name="Title"/> that is the same for every occurrence (RFC 7807's title) and, when the code always
/// concerns one request field, that field (the engine's name: a property of <see cref="Tasks.SubmitTaskRequest"/>).
/// </summary>
public sealed record ErrorType(string Code, ErrorKind Kind, string Title, string? Field = null)
{
    public override string ToString() => Code;
}
