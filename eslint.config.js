import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'lib/**', 'node_modules/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // Plain log text goes through src/action/log.ts, which keeps a build's lines from acting as workflow commands.
    files: ['src/**/*.ts'],
    ignores: ['src/action/log.ts', 'src/cli/**'],
    rules: {
      'no-restricted-properties': ['error', { object: 'core', property: 'info', message: 'Print through logInfo (src/action/log.ts): it neutralises workflow commands in untrusted text.' }],
    },
  },
);
