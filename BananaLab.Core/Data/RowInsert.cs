using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace BananaLab.Core.Data;

/// <summary>
/// A prepared single-row <c>INSERT</c> of an entity, written from the EF Core model: the table, every mapped column but a
/// database-generated key, and each parameter made by the column's own type mapping (value converters included), so a
/// row reads back through EF Core exactly as if <c>SaveChanges</c> had written it, on SQLite and PostgreSQL alike. For the
/// hot path only (the submit's group commit): no change tracking, no generated values read back.
/// See https://learn.microsoft.com/ef/core/providers/writing-a-provider (type mappings) for the parameter rules.
/// </summary>
/// <typeparam name="T">An entity type of <see cref="BananaLabDbContext"/> with no shadow properties.</typeparam>
public sealed class RowInsert<T> : IDisposable where T : class
{
    private readonly DbCommand _command;
    private readonly (IProperty Property, RelationalTypeMapping Mapping, DbParameter Parameter)[] _columns;

    /// <summary>Prepares the statement on the context's open connection, in its current transaction.</summary>
    /// <exception cref="InvalidOperationException">The type is not mapped, or has a shadow property (no value to read).</exception>
    public RowInsert(BananaLabDbContext db)
    {
        var entity = db.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not mapped.");
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var properties = entity.GetProperties().Where(p => !IsGeneratedKey(p)).ToList();
        if (properties.FirstOrDefault(p => p.IsShadowProperty()) is { } shadow)
            throw new InvalidOperationException($"{typeof(T).Name}.{shadow.Name} is a shadow property; RowInsert cannot read it.");

        _command = TransactionCommand.Create(db);
        _columns = properties.Select((p, i) =>
        {
            var mapping = (RelationalTypeMapping)p.GetTypeMapping();
            var parameter = mapping.CreateParameter(_command, $"@p{i}", null, p.IsNullable);
            _command.Parameters.Add(parameter);
            return (p, mapping, parameter);
        }).ToArray();
        var sql = db.GetService<ISqlGenerationHelper>();
        _command.CommandText = $"INSERT INTO {sql.DelimitIdentifier(table.Name, table.Schema)} "
            + $"({string.Join(", ", properties.Select(p => sql.DelimitIdentifier(p.GetColumnName(table)!)))}) "
            + $"VALUES ({string.Join(", ", _columns.Select(c => c.Parameter.ParameterName))})";
    }

    /// <summary>Inserts one row with the entity's current values.</summary>
    public async Task InsertAsync(T row, CancellationToken cancellationToken)
    {
        foreach (var (property, mapping, parameter) in _columns)
        {
            var value = property.GetGetter().GetClrValueUsingContainingEntity(row);
            if (value is not null)
                value = mapping.Converter is { } converter ? converter.ConvertToProvider(value)
                    : value is Enum ? Convert.ChangeType(value, Enum.GetUnderlyingType(value.GetType())) : value;
            parameter.Value = value ?? DBNull.Value;
        }
        await _command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>An integer key the database numbers itself (an identity or autoincrement column).</summary>
    private static bool IsGeneratedKey(IProperty property) =>
        property.IsPrimaryKey() && property.ValueGenerated == ValueGenerated.OnAdd
        && (property.ClrType == typeof(int) || property.ClrType == typeof(long));

    public void Dispose() => _command.Dispose();
}

/// <summary>A command of the hot path on a context's open connection, enlisted in the context's current transaction.</summary>
public static class TransactionCommand
{
    public static DbCommand Create(BananaLabDbContext db)
    {
        var command = db.Database.GetDbConnection().CreateCommand();
        command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        return command;
    }
}
