namespace BananaLab.Core.Tasks;

/// <summary>Filters and paging for task lists (the API, the studio's history, the admin task log).</summary>
public sealed record TaskQuery
{
    public const int MaxPageSize = 100;

    public GenerationTaskStatus? Status { get; init; }
    public string? ModelId { get; init; }
    public DateTime? CreatedFrom { get; init; }
    public DateTime? CreatedTo { get; init; }
    /// <summary>Case-insensitive text contained in the prompt.</summary>
    public string? Search { get; init; }
    public Guid? UserId { get; init; }
    public int Page { get; init; } = 1;
    public int PageSize { get; init; } = 20;
}

public sealed record TaskPage(IReadOnlyList<TaskSnapshot> Items, int Total, int Page, int PageSize);
