using System.Text.RegularExpressions;
using BananaLab.Core.Errors;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Api.Errors;

namespace BananaLab.Tests.Api.Errors;

/// <summary>The code list (<see cref="ErrorTypes"/>) is the one source: the README's tables are read back and compared to it.</summary>
public sealed partial class ErrorCodesTests
{
    [Fact]
    public void The_readme_lists_every_request_error_code_with_the_status_its_kind_maps_to()
    {
        var documented = TableAfter("#### Error codes").Select(row => (Code: row[0], Status: int.Parse(row[1]))).ToList();
        var listed = ErrorTypes.OfRequests.Select(t => (t.Code, Status: ApiProblems.StatusFor(t.Kind))).ToList();

        Assert.Equal(listed.OrderBy(r => r.Code), documented.OrderBy(r => r.Code));
    }

    [Fact]
    public void The_readme_lists_every_code_a_failed_task_stores()
    {
        var documented = TableAfter("#### Why a task failed").Select(row => row[0]).Order();

        Assert.Equal(ErrorTypes.OfRuns.Select(t => t.Code).Order(), documented);
    }

    [Fact]
    public void Every_code_is_listed_once_and_every_kind_has_a_status()
    {
        Assert.Equal(ErrorTypes.All.Count, ErrorTypes.All.Select(t => t.Code).Distinct().Count());
        Assert.All(Enum.GetValues<ErrorKind>(), kind => Assert.InRange(ApiProblems.StatusFor(kind), 400, 599));
    }

    /// <summary>The rows of the first markdown table after <paramref name="heading"/>: each cell unquoted from its backticks.</summary>
    private static IEnumerable<string[]> TableAfter(string heading)
    {
        var lines = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, "README.md"));
        var start = Array.IndexOf(lines, heading);
        Assert.True(start >= 0, $"README.md has no '{heading}'.");
        return lines.Skip(start + 1).SkipWhile(l => !l.StartsWith('|')).TakeWhile(l => l.StartsWith('|')).Skip(2)
            .Select(l => l.Trim('|').Split('|').Select(cell => Backticks().Replace(cell.Trim(), "$1")).ToArray());
    }

    [GeneratedRegex("^`([^`]*)`$")]
    private static partial Regex Backticks();
}
