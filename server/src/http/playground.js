// Starts GraphiQL against this Tomoni server: queries and mutations over HTTP, subscriptions over
// the WebSocket at /graphql/ws. The token is pasted into the Headers tab; GraphiQL sends those
// headers with every HTTP request and in the WebSocket's connection_init payload. GraphiQL gets the
// schema the server computed at start (schema.json) instead of introspecting: over the API only
// coordinators may, and its introspection query nests deeper than the depth limit.
(function () {
  "use strict";
  var wsScheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  var fetcher = GraphiQL.createFetcher({
    url: window.location.origin + "/graphql",
    subscriptionUrl: wsScheme + window.location.host + "/graphql/ws",
  });
  var defaultQuery = [
    "# Welcome to the Tomoni playground.",
    "#",
    "# 1. Open the Headers tab below and paste your token:",
    '#      { "Authorization": "Bearer tmn_..." }',
    "# 2. Press the run button (or Ctrl-Enter).",
    "#",
    "# The Docs button (top left) lists every query and mutation.",
    "",
    "query Viewer {",
    "  viewer {",
    "    id",
    "    displayName",
    "    role",
    "    organisation { name kind }",
    "  }",
    "}",
    "",
  ].join("\n");
  function render(schema) {
    var root = ReactDOM.createRoot(document.getElementById("graphiql"));
    root.render(
      React.createElement(GraphiQL, {
        fetcher: fetcher,
        // Built with GraphiQL's own graphql-js: given a schema, GraphiQL does not introspect (an
        // introspection result would not stop it). Null (no docs, no completion) if it could not
        // be loaded; queries run either way.
        schema: schema,
        defaultQuery: defaultQuery,
        defaultEditorToolsVisibility: "headers",
        // Tokens stay out of the browser's storage: an office computer is often shared.
        shouldPersistHeaders: false,
      })
    );
  }
  fetch("/playground/schema.json", { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) throw new Error("schema.json answered " + response.status);
      return response.json();
    })
    .then(function (introspection) {
      return GraphiQL.GraphQL.buildClientSchema(introspection);
    })
    .then(render, function (error) {
      console.warn("The playground could not load the schema: " + error.message);
      render(null);
    });
})();
