namespace BananaLab.Core.Tasks;

/// <summary>A successful value or a <see cref="TaskError"/>, never both.</summary>
public readonly record struct Outcome<T>(T? Value, TaskError? Error)
{
    public bool Succeeded => Error is null;
    public static implicit operator Outcome<T>(T value) => new(value, null);
    public static implicit operator Outcome<T>(TaskError error) => new(default, error);
}
