// Starts GraphiQL against this Tomoni server: queries and mutations over HTTP, subscriptions over
// the WebSocket at /graphql/ws. The token is pasted into the Headers tab; GraphiQL sends those
// headers with every HTTP request and in the WebSocket's connection_init payload.
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
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      defaultEditorToolsVisibility: "headers",
      // Tokens stay out of the browser's storage: an office computer is often shared.
      shouldPersistHeaders: false,
    })
  );
})();
