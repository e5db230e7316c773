using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Wavhaven.Payments.Catalog;

namespace Wavhaven.Payments;

/// <summary>
/// Binds the <c>Stripe</c> section strictly, and turns what the binder would throw (or silently drop) into
/// failures that <see cref="StripePaymentsOptionsValidator"/> reports when the host starts: an unknown key,
/// named by its full path (<c>Stripe:Plans:1:Prices:0:TestPriceID</c>), and a value that cannot be read as its
/// setting's type, named by its path but never quoted, since a misplaced secret could be in it.
/// </summary>
/// <remarks>
/// The binder on its own throws <see cref="InvalidOperationException"/> from deep inside options creation,
/// names an unknown key without the plan it sits in, quotes unreadable values, and, unless
/// <see cref="BinderOptions.ErrorOnUnknownConfiguration"/> is set, skips a list entry that fails to convert,
/// which would drop a whole plan over a typo in its BillingType.
/// </remarks>
internal static partial class StripePaymentsOptionsBinder
{
    public static void Bind(IConfiguration configuration, StripePaymentsOptions options)
    {
        // AddStripePayments may be called twice with the same section; binding it again would append every plan
        // and webhook secret a second time.
        if (!options.BoundSections.Add(PathOf(configuration)))
        {
            return;
        }

        var unknownKeys = new List<string>();
        ReportUnknownKeys(configuration, typeof(StripePaymentsOptions), options.ConfigurationFailures, unknownKeys);
        try
        {
            // Strict binding also makes the binder throw for a list entry it cannot convert, instead of skipping it.
            // With unknown keys already reported, bind leniently so the binder does not stop at the first of them.
            var strict = unknownKeys.Count == 0;
            configuration.Bind(options, binder => binder.ErrorOnUnknownConfiguration = strict);
        }
        catch (InvalidOperationException exception)
        {
            var (path, message) = DescribeBindingFailure(exception);
            if (path is null || !unknownKeys.Any(key => string.Equals(path, key, StringComparison.OrdinalIgnoreCase) || path.StartsWith(key + ":", StringComparison.OrdinalIgnoreCase)))
            {
                options.ConfigurationFailures.Add(message);
            }
        }
    }

    private static void ReportUnknownKeys(IConfiguration section, Type type, List<string> failures, List<string> unknownKeys)
    {
        if (IsScalar(type))
        {
            foreach (var child in section.GetChildren())
            {
                unknownKeys.Add(child.Path);
                failures.Add($"{child.Path} is not a setting: {PathOf(section)} takes a single value, not a section.");
            }

            return;
        }

        if (ElementType(type) is { } elementType)
        {
            foreach (var child in section.GetChildren())
            {
                ReportUnknownKeys(child, elementType, failures, unknownKeys);
            }

            return;
        }

        var settings = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(property => property.GetIndexParameters().Length == 0 && (property.SetMethod?.IsPublic == true || !IsScalar(property.PropertyType)))
            .ToDictionary(property => property.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var child in section.GetChildren())
        {
            if (settings.TryGetValue(child.Key, out var property))
            {
                ReportUnknownKeys(child, property.PropertyType, failures, unknownKeys);
            }
            else
            {
                unknownKeys.Add(child.Path);
                var where = PathOf(section) is { Length: > 0 } path ? " of " + path : string.Empty;
                failures.Add($"{child.Path} is not a setting. Check its spelling; the settings{where} are: {string.Join(", ", settings.Keys)}.");
            }
        }
    }

    private static string PathOf(IConfiguration section) => section is IConfigurationSection { Path: var path } ? path : string.Empty;

    private static bool IsScalar(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
            || type == typeof(Uri) || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(Guid);
    }

    /// <summary>The value type of a dictionary or the element type of a list, array or sequence; null for other types.</summary>
    private static Type? ElementType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        var generic = new[] { type }.Concat(type.GetInterfaces()).Where(t => t.IsGenericType).ToList();
        var dictionary = generic.FirstOrDefault(t => t.GetGenericTypeDefinition() == typeof(IDictionary<,>) || t.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>));
        if (dictionary is not null)
        {
            return dictionary.GetGenericArguments()[1];
        }

        return generic.FirstOrDefault(t => t.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];
    }

    private static (string? Path, string Message) DescribeBindingFailure(InvalidOperationException exception)
    {
        for (Exception? inner = exception; inner is not null; inner = inner.InnerException)
        {
            var match = ConversionFailure().Match(inner.Message);
            if (match.Success)
            {
                var path = match.Groups["path"].Value;
                var type = match.Groups["type"].Value;
                var expected = type.StartsWith("System.Collections.Generic.", StringComparison.Ordinal) && type.Contains("List`1", StringComparison.Ordinal)
                    ? $"a list, one key per entry ({path}:0, {path}:1, …; in environment variables {path.Replace(":", "__", StringComparison.Ordinal)}__0)"
                    : Expected(type);
                return (path, $"{path} must be {expected}; its value could not be read (it is not repeated here, in case it is a secret).");
            }
        }

        return (null, "A value in the Stripe section could not be read as its setting's type: check the numbers, durations (00:05:00), "
            + "true/false flags, URLs, BillingType and Interval names. (Values are not repeated here, in case one is a secret.)");
    }

    private static string Expected(string typeName) => typeName switch
    {
        _ when typeName.EndsWith(nameof(BillingType), StringComparison.Ordinal) => $"one of {string.Join(", ", Enum.GetNames<BillingType>())}",
        _ when typeName.EndsWith(nameof(PriceInterval), StringComparison.Ordinal) => $"one of {string.Join(", ", Enum.GetNames<PriceInterval>())}",
        "System.Int32" or "System.Int64" => "a whole number",
        "System.Boolean" => "true or false",
        "System.TimeSpan" => "a duration such as 00:05:00",
        "System.Uri" => "a URL",
        _ => "a " + typeName,
    };

    // The binder's message: Failed to convert configuration value '<value>' at '<path>' to type '<type>'.
    [GeneratedRegex(@" at '(?<path>[^']+)' to type '(?<type>[^']+)'\.?\s*$")]
    private static partial Regex ConversionFailure();
}
