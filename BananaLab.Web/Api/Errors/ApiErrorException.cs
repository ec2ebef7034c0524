using BananaLab.Core.Tasks;

namespace BananaLab.Web.Api.Errors;

/// <summary>
/// An error found deep in reading a request (a field of the wrong type), thrown to <see cref="ApiExceptionHandler"/>,
/// which answers it in the endpoint's own envelope.
/// </summary>
public sealed class ApiErrorException(TaskError error) : Exception(error.Message)
{
    /// <summary>The error to answer.</summary>
    public TaskError Error { get; } = error;
}
