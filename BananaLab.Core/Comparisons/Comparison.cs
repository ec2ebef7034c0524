using BananaLab.Core.Tasks;

namespace BananaLab.Core.Comparisons;

/// <summary>
/// One prompt and its settings sent to 2–4 models at once: a task per model, in the order the models were given, each
/// priced, charged and settled on its own. <see cref="Id"/> is the <c>ComparisonId</c> (and batch id) every task stores.
/// </summary>
public sealed record Comparison(Guid Id, IReadOnlyList<TaskView> Tasks)
{
    /// <summary>Credits the comparison was priced at: the sum of each model's price (what submission reserved).</summary>
    public int TotalCredits => Tasks.Sum(t => t.Task.CreditsReserved);

    /// <summary>Credits captured so far: the tasks that succeeded; a failed or canceled one released its own.</summary>
    public int CreditsCharged => Tasks.Sum(t => t.Task.CreditsCharged);

    /// <summary>When it was submitted (its tasks share the time).</summary>
    public DateTime CreatedAt => Tasks.Min(t => t.Task.CreatedAt);

    /// <summary>Whether every task has ended, whichever way.</summary>
    public bool IsFinished => Tasks.All(t => t.Task.IsTerminal);
}

/// <summary>The price of a comparison before it is made: one quote per model, in order, and their sum.</summary>
public sealed record ComparisonQuote(IReadOnlyList<PriceQuote> Items)
{
    /// <summary>Credits the whole comparison reserves: every model's price summed.</summary>
    public int Total => Items.Sum(q => q.Total);
}
