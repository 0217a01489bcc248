// The part of API Management's policy-expression context that this project's policies use, typed as
// Microsoft documents it ("API Management policy expressions", the context variable table), so that
// mcs can compile every expression of a rendered policy. Only the shapes matter: nothing here runs.
using System;
using System.Collections.Generic;
using Newtonsoft.Json.Linq;

namespace Apim
{
    public interface IMessageBody
    {
        T As<T>(bool preserveContent = false);
    }

    public interface IUrl
    {
        string Host { get; }
        string Path { get; }
        int Port { get; }
        string Scheme { get; }
        IReadOnlyDictionary<string, string[]> Query { get; }
        string QueryString { get; }
    }

    public interface IRequest
    {
        IMessageBody Body { get; }
        IReadOnlyDictionary<string, string[]> Headers { get; }
        string IpAddress { get; }
        IReadOnlyDictionary<string, string> MatchedParameters { get; }
        string Method { get; }
        IUrl OriginalUrl { get; }
        IUrl Url { get; }
    }

    public interface IResponse
    {
        IMessageBody Body { get; }
        IReadOnlyDictionary<string, string[]> Headers { get; }
        int StatusCode { get; }
        string StatusReason { get; }
    }

    public interface ISubscription
    {
        string Id { get; }
        string Key { get; }
        string Name { get; }
        string PrimaryKey { get; }
        string SecondaryKey { get; }
    }

    public interface IProduct
    {
        string Id { get; }
        string Name { get; }
    }

    public interface IApi
    {
        string Id { get; }
        string Name { get; }
        string Path { get; }
    }

    public interface IOperation
    {
        string Id { get; }
        string Method { get; }
        string Name { get; }
        string UrlTemplate { get; }
    }

    public interface IDeployment
    {
        string GatewayId { get; }
        string Region { get; }
        string ServiceName { get; }
    }

    public interface ILastError
    {
        string Source { get; }
        string Reason { get; }
        string Message { get; }
        string Scope { get; }
        string Section { get; }
        string Path { get; }
        string PolicyId { get; }
    }

    public interface IUser
    {
        string Id { get; }
        string Email { get; }
    }

    public interface IContext
    {
        IApi Api { get; }
        IDeployment Deployment { get; }
        TimeSpan Elapsed { get; }
        ILastError LastError { get; }
        IOperation Operation { get; }
        IProduct Product { get; }
        IRequest Request { get; }
        Guid RequestId { get; }
        IResponse Response { get; }
        ISubscription Subscription { get; }
        DateTime Timestamp { get; }
        IUser User { get; }
        IReadOnlyDictionary<string, object> Variables { get; }
    }

    public class Jwt
    {
        public IReadOnlyDictionary<string, string[]> Claims { get; set; }
        public string Id { get; set; }
        public IEnumerable<string> Audiences { get; set; }
        public string Issuer { get; set; }
        public string Subject { get; set; }
    }

    public static class ContextExtensions
    {
        // context.Variables.GetValueOrDefault<T>(name, default)
        public static T GetValueOrDefault<T>(this IReadOnlyDictionary<string, object> variables, string name, T defaultValue)
        {
            return defaultValue;
        }

        // Headers, query parameters and claims: the values joined with commas, or the default.
        public static string GetValueOrDefault(this IReadOnlyDictionary<string, string[]> values, string name, string defaultValue)
        {
            return defaultValue;
        }

        // MatchedParameters (System.Collections.Generic.CollectionExtensions in .NET).
        public static string GetValueOrDefault(this IReadOnlyDictionary<string, string> values, string name, string defaultValue)
        {
            return defaultValue;
        }

        public static Jwt AsJwt(this string value)
        {
            return null;
        }
    }
}
